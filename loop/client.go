package loop

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lesismal/nbio/nbhttp/websocket"

	"wsfan/auth"
	"wsfan/codec"
	"wsfan/limits"
)

// Close codes and reasons of PROTOCOL.md.
const (
	closeGoingAway      = 1001
	closePolicyViolated = 1008

	reasonShutdown     = "shutdown"
	reasonSlowConsumer = "slow consumer"
	reasonIdle         = "idle timeout"
	reasonExpired      = "token expired"
	reasonRateLimited  = "rate limited"
)

// closeGrace is how long a connection may take, after the server sent its
// close frame, to drain what is queued for it and answer the close; then
// the socket is closed regardless.
const closeGrace = 5 * time.Second

// pingFrame is a server ping with an empty payload.
var pingFrame = codec.AppendFrameHeader(nil, 0x9, 0)

// client is one WebSocket connection's state.
type client struct {
	srv  *Server
	id   uint64
	ws   *websocket.Conn
	conn net.Conn // ws's transport; frames are written to it directly
	w    *writer
	ip   netip.Addr
	// ident is who the connection's JWT names (anonymous without auth).
	ident auth.Identity
	// cmds limits the client's command rate.
	cmds limits.CommandBucket

	// lastSeen is the UnixNano time of the last frame from the peer.
	lastSeen atomic.Int64
	// openedAt is when the upgrade finished (UnixNano); handshakeCleared is
	// set once the heartbeat cleared nbio's handshake deadline (heartbeat
	// goroutine only; see clearHandshakeDeadline).
	openedAt         int64
	handshakeCleared bool
	// handed counts bytes passed to conn.Write; written counts bytes the
	// kernel took (nbio's OnWrittenSize). handed-written is what nbio still
	// queues for this connection.
	handed  atomic.Int64
	written atomic.Int64
	// inflight is the size of the Write in progress: the kernel may have
	// taken those bytes (and the peer read them) before nbio credits them,
	// so the backlog leaves them out until Write returns.
	inflight atomic.Int64

	mu sync.Mutex
	// out holds frames not yet handed to conn; nil when there are none.
	out *[]byte
	// queued is true while the client is in its writer's queue.
	queued bool
	// outSince is when the oldest publication in out was accepted
	// (UnixNano; 0 when out holds none), for the publish-to-write latency.
	outSince int64
	// closeCode is non-zero once a close was requested; later frames are
	// dropped. flushOnClose keeps what out held before the close frame.
	closeCode    int
	closeReason  string
	flushOnClose bool
	// gone is set once the socket closed; nothing is written after it.
	gone bool
	// subs is the client's own subscription set: removal on disconnect
	// touches only these channels' shards.
	subs map[string]struct{}

	// wmu serialises handing bytes to conn, so the close frame is the last
	// frame written. closeSent is guarded by wmu.
	wmu       sync.Mutex
	closeSent bool
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
		c.requestCloseLocked(closePolicyViolated, reasonSlowConsumer, false)
		c.srv.m.slowConsumers.Inc()
		return false
	}
	if c.out == nil {
		c.out = getBuf()
	}
	*c.out = append(*c.out, frame...)
	c.scheduleLocked()
	return true
}

func (c *client) scheduleLocked() {
	if !c.queued {
		c.queued = true
		c.w.push(c)
	}
}

// requestClose asks for a close frame with code and reason to be sent after
// whatever is queued (flush) or instead of it (!flush), then for the socket
// to be closed once the peer answers or closeGrace passes.
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
	c.closeCode, c.closeReason, c.flushOnClose = code, reason, flush
	if !flush {
		putBuf(c.out)
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
	gone, code, reason := c.gone, c.closeCode, c.closeReason
	c.mu.Unlock()

	if out != nil {
		if !gone && len(*out) > 0 {
			c.write(*out)
			if since != 0 {
				c.srv.m.observeLatency(since)
			}
		}
		putBuf(out)
	}
	if gone || code == 0 || c.closeSent {
		return
	}
	c.closeSent = true
	var fb [2 + 2 + 125]byte
	c.write(codec.AppendCloseFrame(fb[:0], code, reason))
	// Close the socket after the grace period unless the peer's close
	// answer closes it first. nbio's timers live on one goroutine.
	_ = c.conn.SetReadDeadline(time.Now().Add(closeGrace))
}

// write hands b to the socket. nbio's Write never blocks: what the kernel
// does not take now is queued by nbio and counted in the backlog. A write
// error means nbio closed the connection; OnClose cleans up.
func (c *client) write(b []byte) {
	c.srv.m.writes.Inc()
	c.inflight.Store(int64(len(b))) // before handed: never count them twice
	c.handed.Add(int64(len(b)))
	_, _ = c.conn.Write(b)
	c.inflight.Store(0)
}

// answerClose echoes the peer's close frame, unless the server already sent
// one. nbio closes the socket right after this returns, so it writes
// synchronously.
func (c *client) answerClose(code int, reason string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent {
		return
	}
	c.closeSent = true
	var fb [2 + 2 + 125]byte
	frame := codec.AppendFrameHeader(fb[:0], 0x8, 0)
	if code != 1005 { // 1005: the peer sent no code; answer with none
		frame = codec.AppendCloseFrame(fb[:0], code, reason)
	}
	c.write(frame)
}

// closed records that the socket is gone: its subscriptions leave the index
// and nothing more is written. Called once, from nbio's OnClose.
func (c *client) closed() (subs int) {
	c.mu.Lock()
	c.gone = true
	putBuf(c.out)
	c.out = nil
	channels := make([]string, 0, len(c.subs))
	for ch := range c.subs {
		channels = append(channels, ch)
	}
	c.subs = nil
	c.mu.Unlock()
	c.srv.idx.RemoveAll(c, channels)
	if bus := c.srv.bus; bus != nil {
		for _, ch := range channels {
			bus.Interest(ch, -1)
		}
	}
	return len(channels)
}
