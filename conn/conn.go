package conn

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lesismal/nbio"
	"github.com/lesismal/nbio/nbhttp"

	"wsfan/auth"
	"wsfan/limits"
	"wsfan/ws"
)

// Conn is one WebSocket connection. It is nbio's session of the socket
// (nbhttp.ParserCloser): nbio hands it the bytes read (Parse) and tells it
// when the socket is gone (CloseAndClean).
//
// The socket is never closed from outside nbio's poller: nbio's poller
// looks events up by file descriptor, so a close from another goroutine
// lets an event of the old socket, already read from epoll, hit a new
// connection that got the same descriptor (seen as upgrades dropped right
// after a polite close). Every close decided here is a shutdown(2)
// instead: the poller then sees the hang-up and closes the socket itself.
type Conn struct {
	env *Env
	id  uint64
	nbc *nbio.Conn // the socket; nil for a detached Conn (Env.NewDetached)
	// w is where frames are written: nbc, or the TLS connection over it.
	w net.Conn
	// hc is the connection nbhttp handed over at a TLS upgrade: its TLS read
	// path finds the TLS state through it (UnderlayerConn); nil for plain.
	hc *nbhttp.Conn
	ip netip.Addr
	// subject and expires are who the connection's JWT names and when it
	// expires (UnixNano; 0: never), kept apart from auth.Identity to save
	// the bytes of a time.Time; see Identity.
	subject string
	expires int64
	// cmds limits the command rate; used on the connection's executor only.
	cmds limits.CommandBucket

	// lastSeen is the UnixNano time of the last frame from the peer.
	lastSeen atomic.Int64
	// handed counts bytes passed to the socket (TLS records under TLS);
	// written counts bytes the kernel took (nbio's OnWrittenSize).
	// handed-written is what nbio still queues for this connection.
	handed  atomic.Int64
	written atomic.Int64
	// inflight is the size of the socket write in progress: the kernel may
	// have taken those bytes (and the peer read them) before nbio credits
	// them, so the backlog leaves them out until the write returns.
	inflight atomic.Int64

	// rmu guards rd: nbio's poller parses under it, and the writer and
	// CloseAndClean take it to tell the reader about the close.
	rmu sync.Mutex
	rd  ws.Reader

	mu sync.Mutex
	// out holds frames not yet handed to the socket; nil when there are none.
	out *[]byte
	// latest says where the messages of conflated channels lie in out, so
	// that a newer one replaces an unsent one; nil until the first.
	latest *[]unsent
	// outSince is when the oldest publication in out was accepted
	// (UnixNano; 0 when out holds none), for the publish-to-write latency.
	outSince int64
	// closeReason and closeCode are set once a close was requested; later
	// frames are dropped. flushOnClose keeps what out held before the
	// close frame.
	closeReason string
	closeCode   int16
	// queued is true while the Conn is in its writer's queue.
	queued       bool
	flushOnClose bool
	// gone is set once the socket closed; nothing is written after it.
	gone bool
	// deflate is set at the upgrade when permessage-deflate was negotiated:
	// publications of at least compression_min_bytes come deflated.
	deflate bool
	// anonymous: the connection presented no token.
	anonymous bool
	// sndbufSet: CapSendBuffer ran; changed on the executor only.
	sndbufSet bool
	// held: a command waits (Hold); the connection's later jobs are
	// parked. Executor only.
	held bool
	// closeSent is set once our close frame (or the echo of the peer's)
	// was handed to the socket; guarded by wmu (it sits here to pack).
	closeSent bool
	// tlsOverhead is what each TLS record adds to its plaintext; 0 on a
	// plain connection. Set at the upgrade.
	tlsOverhead int32
	// shut is the shutdown step done (shutNone, shutWrite, shutBoth).
	shut atomic.Int32
	// subs is the connection's own record of its subscriptions; see Subs.
	subs Subs

	// wmu serialises handing bytes to the socket, so that the close frame
	// is the last frame written. closeSent and timer are guarded by wmu.
	wmu sync.Mutex
	// deferred is set while out waits for nbio to hand its queue to the
	// kernel (a socket that does not keep up): OnWritten then schedules
	// the flush, so that unsent bytes stay in out, where a conflated
	// channel's newer message can replace an older one.
	deferred atomic.Bool
	// closing is set once the close frame was handed to the socket (after
	// its bytes count in handed); from then on each write nbio reports
	// checks whether everything went out, to shut the socket down.
	closing atomic.Bool
	// peerClosed is set when the peer's close frame arrived: once our close
	// (or its echo) is out the socket is shut down both ways.
	peerClosed atomic.Bool
	// timer closes the connection when its token expires between two
	// heartbeat visits; once our close frame is out, it shuts the socket
	// down both ways closeGrace later, whatever the peer does.
	timer *time.Timer
}

// ID is the connection's number, unique in its Env.
func (c *Conn) ID() uint64 { return c.id }

// IP is the client's address, as the upgrade counted it.
func (c *Conn) IP() netip.Addr { return c.ip }

// Identity is who the connection's token names.
func (c *Conn) Identity() auth.Identity {
	id := auth.Identity{Subject: c.subject, Anonymous: c.anonymous}
	if c.expires != 0 {
		id.Expires = time.Unix(0, c.expires)
	}
	return id
}

// setIdentity records id.
func (c *Conn) setIdentity(id auth.Identity) {
	c.subject, c.anonymous = id.Subject, id.Anonymous
	if !id.Expires.IsZero() {
		c.expires = id.Expires.UnixNano()
	}
}

// Deflate reports whether the connection negotiated permessage-deflate.
// Fixed at the upgrade; safe to read without a lock.
func (c *Conn) Deflate() bool { return c.deflate }

// LastSeen is the UnixNano time of the last frame from the peer.
func (c *Conn) LastSeen() int64 { return c.lastSeen.Load() }

func (c *Conn) touch() { c.lastSeen.Store(time.Now().UnixNano()) }

// TakeCommand takes one command (or ping) from the connection's rate limit.
// It runs on the connection's executor.
func (c *Conn) TakeCommand(now time.Time) limits.Verdict { return c.cmds.Take(now) }

// Lock takes the connection's state lock, which guards its subscriptions
// (Subs) and its output; a caller may hold channel entry locks.
func (c *Conn) Lock() { c.mu.Lock() }

// Unlock releases the state lock.
func (c *Conn) Unlock() { c.mu.Unlock() }

// Subs is the connection's record of its subscriptions, each with its
// handle in the index, so that an unsubscribe or the disconnect finds its
// place without a search. It changes on the connection's executor only,
// under Lock; the executor may read it without the lock, anyone else with it.
func (c *Conn) Subs() *Subs { return &c.subs }

// GoneLocked reports whether the socket closed; the caller holds Lock.
func (c *Conn) GoneLocked() bool { return c.gone }

// Closing reports whether the connection is closed or being closed.
func (c *Conn) Closing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gone || c.closeCode != 0
}

// Queued returns what the connection believes nbio still queues for its
// socket: bytes handed minus bytes the kernel took. For tests and debugging.
func (c *Conn) Queued() int64 { return c.handed.Load() - c.written.Load() }

// Socket returns nbio's connection; nil for a detached Conn. For tests.
func (c *Conn) Socket() *nbio.Conn { return c.nbc }

// Idle reports whether nothing waits for c's writer: no frame buffered and
// c not in its writer's queue. For tests.
func (c *Conn) Idle() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out == nil && !c.queued
}

// CloseHanded reports whether c's close frame (or the echo of the peer's)
// was handed to the socket.
func (c *Conn) CloseHanded() bool { return c.closing.Load() }

// Backlog returns the bytes queued for c and not yet taken by the kernel:
// its unsent buffer and what nbio holds. For tests and debugging.
func (c *Conn) Backlog() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.backlogLocked()
}

// CapSendBuffer sets the socket's kernel send buffer (SO_SNDBUF) to bytes,
// once: for a connection to conflated channels, so that what waits for it
// waits in its buffer, where a newer value can replace an older one. It
// runs on the connection's executor.
func (c *Conn) CapSendBuffer(bytes int) {
	if c.sndbufSet || c.nbc == nil {
		return
	}
	c.sndbufSet = true
	c.nbc.Lock() // the descriptor cannot be closed and reused meanwhile
	defer c.nbc.Unlock()
	if closed, _ := c.nbc.IsClosed(); !closed {
		_ = syscall.SetsockoptInt(c.nbc.Hash(), syscall.SOL_SOCKET, syscall.SO_SNDBUF, bytes)
	}
}
