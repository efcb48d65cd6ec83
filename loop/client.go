package loop

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
	"wsfan/codec"
	"wsfan/lib/bytespool"
	"wsfan/limits"
	"wsfan/ws"
)

// closeGrace is how long a connection may take, after the server sent its
// close frame, to drain what is queued for it and answer the close; then
// the socket is shut down regardless.
const closeGrace = 5 * time.Second

// pingFrame is a server ping with an empty payload.
var pingFrame = ws.AppendFrameHeader(nil, ws.OpPing, 0)

// Socket shutdown steps (client.shut), in the order they happen.
const (
	shutNone  = iota
	shutWrite // our close frame went out, then FIN: the peer reads EOF
	shutBoth  // both ways: nbio's poller sees the hang-up and closes the socket
)

// client is one WebSocket connection's state. It is nbio's session of the
// socket (nbhttp.ParserCloser): nbio hands it the bytes read (Parse) and
// tells it when the socket is gone (CloseAndClean).
//
// The socket is never closed from outside nbio's poller: nbio's poller
// looks events up by file descriptor, so a close from another goroutine
// lets an event of the old socket, already read from epoll, hit a new
// connection that got the same descriptor (seen as upgrades dropped right
// after a polite close). Every close the server decides is a shutdown(2)
// instead: the poller then sees the hang-up and closes the socket itself.
type client struct {
	srv *Server
	id  uint64
	nbc *nbio.Conn // the socket
	// conn is where frames are written: nbc, or the TLS connection over it.
	conn net.Conn
	// hc is the connection nbhttp handed over at a TLS upgrade: its TLS read
	// path finds the TLS state through it (UnderlayerConn); nil for plain.
	hc *nbhttp.Conn
	ip netip.Addr
	// ident is who the connection's JWT names (anonymous without auth).
	ident auth.Identity
	// cmds limits the client's command rate; used on the connection's
	// nbio executor only.
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
	// outSince is when the oldest publication in out was accepted
	// (UnixNano; 0 when out holds none), for the publish-to-write latency.
	outSince int64
	// closeReason and closeCode are set once a close was requested; later
	// frames are dropped. flushOnClose keeps what out held before the
	// close frame.
	closeReason string
	closeCode   int16
	// queued is true while the client is in its writer's queue.
	queued       bool
	flushOnClose bool
	// gone is set once the socket closed; nothing is written after it.
	gone bool
	// closeSent is set once our close frame (or the echo of the peer's)
	// was handed to the socket; guarded by wmu (it sits here to pack).
	closeSent bool
	// tlsOverhead is what each TLS record adds to its plaintext; 0 on a
	// plain connection. Set at the upgrade.
	tlsOverhead int32
	// shut is the shutdown step done (shutNone, shutWrite, shutBoth).
	shut atomic.Int32
	// subs is the client's own record of its subscriptions, each with its
	// handle in the index, so that an unsubscribe or the disconnect finds
	// its place without a search. Changed on the connection's executor only,
	// under mu (a publisher reads it under mu, with the channel's lock held,
	// to deliver a publication once; see holdsAny).
	subs subSet

	// wmu serialises handing bytes to the socket, so that the close frame
	// is the last frame written. closeSent and timer are guarded by wmu.
	wmu sync.Mutex
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

func (c *client) touch() {
	c.lastSeen.Store(time.Now().UnixNano())
}

// backlogLocked returns the bytes queued for c and not yet taken by the
// kernel. c.mu must be held.
func (c *client) backlogLocked() int {
	n := int(c.handed.Load() - c.inflight.Load() - c.written.Load())
	if n < 0 {
		n = 0
	}
	if c.out != nil {
		n += len(*c.out)
	}
	return n
}

// enqueue appends a ready frame to c's outbound buffer and schedules a
// flush. It never blocks on the socket. It returns false when the frame was
// dropped: the client is closing, or it just passed max_pending_bytes and
// is being closed as a slow consumer.
func (c *client) enqueue(frame []byte) bool {
	c.mu.Lock()
	ok := c.enqueueLocked(frame)
	c.mu.Unlock()
	return ok
}

// enqueueMessage is enqueue for a publication accepted at acceptedNano.
func (c *client) enqueueMessage(frame []byte, acceptedNano int64) bool {
	c.mu.Lock()
	ok := c.enqueueLocked(frame)
	if ok && c.outSince == 0 {
		c.outSince = acceptedNano
	}
	c.mu.Unlock()
	return ok
}

func (c *client) enqueueLocked(frame []byte) bool {
	if c.gone || c.closeCode != 0 {
		return false
	}
	if c.backlogLocked()+len(frame) > c.srv.cfg.MaxPendingBytes {
		c.requestCloseLocked(codec.ClosePolicyViolation, codec.CloseReasonSlowConsumer, false)
		c.srv.m.slowConsumers.Inc()
		return false
	}
	if c.out == nil {
		c.out = bytespool.Get()
	}
	*c.out = append(*c.out, frame...)
	c.scheduleLocked()
	return true
}

func (c *client) scheduleLocked() {
	if !c.queued {
		c.queued = true
		c.srv.writerOf(c).push(c)
	}
}

// requestClose asks for a close frame with code and reason to be sent after
// whatever is queued (flush) or instead of it (!flush), then for the socket
// to be shut down once the peer answers or closeGrace passes.
// It returns false when a close was already requested.
func (c *client) requestClose(code int, reason string, flush bool) bool {
	c.mu.Lock()
	ok := c.requestCloseLocked(code, reason, flush)
	c.mu.Unlock()
	return ok
}

func (c *client) requestCloseLocked(code int, reason string, flush bool) bool {
	if c.gone || c.closeCode != 0 {
		return false
	}
	c.closeCode, c.closeReason, c.flushOnClose = int16(code), reason, flush
	if !flush {
		bytespool.Put(c.out)
		c.out = nil
	}
	c.scheduleLocked()
	return true
}

// flush hands c's pending bytes to the socket in one write, followed by the
// close frame when one was requested. Only c's writer calls it.
func (c *client) flush() {
	c.wmu.Lock()
	defer c.wmu.Unlock()

	c.mu.Lock()
	out := c.out
	since := c.outSince
	c.out = nil
	c.outSince = 0
	c.queued = false
	gone, code, reason := c.gone, int(c.closeCode), c.closeReason
	c.mu.Unlock()

	if out != nil {
		if !gone && !c.closeSent && len(*out) > 0 {
			c.write(*out)
			if since != 0 {
				c.srv.m.observeLatency(since)
			}
		}
		bytespool.Put(out)
	}
	if gone || code == 0 || c.closeSent {
		return
	}
	var fb [2 + 2 + ws.MaxCloseReason]byte
	c.sendCloseLocked(ws.AppendCloseFrame(fb[:0], code, reason))
	c.rmu.Lock()
	c.rd.Closing() // from now on the reader only looks for the peer's answer
	c.rmu.Unlock()
	if c.timer != nil {
		c.timer.Stop() // the token's expiry no longer matters
	}
	c.timer = time.AfterFunc(closeGrace, c.shutdownNow)
}

// sendCloseLocked writes frame, our close frame or the echo of the peer's,
// and shuts the socket down as soon as nbio has handed it to the kernel.
// c.wmu must be held.
func (c *client) sendCloseLocked(frame []byte) {
	c.closeSent = true
	c.write(frame)
	c.closing.Store(true)
	c.nbc.Lock()
	c.shutdownIfFlushedLocked()
	c.nbc.Unlock()
}

// shutdownIfFlushedLocked shuts the socket down once the close frame and
// everything before it left nbio's queue: the write side when the peer has
// yet to answer, both sides once it has. nbio's connection lock must be
// held (nbio holds it when it reports a write), so that the descriptor
// cannot be closed, and reused, meanwhile.
func (c *client) shutdownIfFlushedLocked() {
	if c.handed.Load() != c.written.Load() {
		return
	}
	step := int32(shutWrite)
	if c.peerClosed.Load() {
		step = shutBoth
	}
	if c.shut.Load() >= step {
		return
	}
	c.shut.Store(step)
	if closed, _ := c.nbc.IsClosed(); !closed {
		how := syscall.SHUT_WR
		if step == shutBoth {
			how = syscall.SHUT_RDWR
		}
		shutdownFD(c.nbc.Hash(), how)
	}
}

// shutdownNow shuts the socket down both ways, whatever is still queued:
// closeGrace passed since our close frame.
func (c *client) shutdownNow() {
	c.nbc.Lock()
	defer c.nbc.Unlock()
	if c.shut.Swap(shutBoth) == shutBoth {
		return
	}
	if closed, _ := c.nbc.IsClosed(); !closed {
		shutdownFD(c.nbc.Hash(), syscall.SHUT_RDWR)
	}
}

// write hands b to the connection: plain, or through TLS. nbio's Write
// never blocks: what the kernel does not take now is queued by nbio and
// counted in the backlog. A write error means nbio closed the connection;
// CloseAndClean cleans up.
func (c *client) write(b []byte) {
	c.srv.m.writes.Inc()
	n := int64(len(b)) // what reaches the socket: TLS records under TLS
	if c.tlsOverhead > 0 {
		n += int64((len(b)+maxTLSRecord-1)/maxTLSRecord) * int64(c.tlsOverhead)
	}
	c.inflight.Store(n) // before handed: never count them twice
	c.handed.Add(n)
	_, _ = c.conn.Write(b)
	c.inflight.Store(0)
}

// peerClose answers the peer's close frame: with the same code (none for
// a close without one) unless the server already sent its own close, and
// then shuts the socket down. It runs on the connection's nbio executor.
func (c *client) peerClose(code int, reason string) {
	c.peerClosed.Store(true)
	c.mu.Lock()
	if c.closeCode == 0 {
		// Nothing more is enqueued; what is pending is dropped.
		c.closeCode, c.closeReason = int16(code), reason
		bytespool.Put(c.out)
		c.out = nil
	}
	c.mu.Unlock()

	c.wmu.Lock()
	defer c.wmu.Unlock()
	if !c.closeSent {
		var fb [2 + 2 + ws.MaxCloseReason]byte
		c.sendCloseLocked(ws.AppendCloseFrame(fb[:0], code, reason))
		return
	}
	c.nbc.Lock()
	c.shutdownIfFlushedLocked() // our close is out, or goes out: both ways now
	c.nbc.Unlock()
}

// holdsAny reports whether c holds ch or one of patterns: whether a walk
// of those already reached it. The caller holds their locks, so that the
// answer cannot change.
func (c *client) holdsAny(ch *channel, patterns []*channel) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h := c.subs.get(ch.Name()); h != nil && h.Channel() == ch {
		return true
	}
	for _, p := range patterns {
		if h := c.subs.get(p.Name()); h != nil && h.Channel() == p {
			return true
		}
	}
	return false
}

// closed records that the socket is gone: its subscriptions leave the index
// and nothing more is written. Called once, from CloseAndClean, on the
// connection's executor.
func (c *client) closed() (subs int) {
	c.mu.Lock()
	c.gone = true
	bytespool.Put(c.out)
	c.out = nil
	held := c.subs
	c.subs = subSet{}
	c.mu.Unlock()

	c.wmu.Lock()
	if c.timer != nil {
		c.timer.Stop()
	}
	c.wmu.Unlock()
	c.rmu.Lock()
	c.rd.Release()
	c.rmu.Unlock()

	now := time.Now().UnixNano()
	held.all(func(h *sub) {
		ch := h.Channel()
		ch.Lock()
		c.srv.leaveLocked(h, now)
		ch.Unlock()
		if bus := c.srv.bus; bus != nil {
			bus.Interest(ch.Name(), -1)
		}
	})
	return held.len()
}
