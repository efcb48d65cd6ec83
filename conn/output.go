package conn

import (
	"wsfan/codec"
	"wsfan/lib/bytespool"
	"wsfan/ws"
)

// pingFrame is a server ping with an empty payload.
var pingFrame = ws.AppendFrameHeader(nil, ws.OpPing, 0)

// backlogLocked returns the bytes queued for c and not yet taken by the
// kernel. c.mu must be held.
func (c *Conn) backlogLocked() int {
	n := int(c.handed.Load() - c.inflight.Load() - c.written.Load())
	if n < 0 {
		n = 0
	}
	if c.out != nil {
		n += len(*c.out)
	}
	return n
}

// Enqueue appends a ready frame to c's outbound buffer and schedules a
// flush. It never blocks on the socket. It returns false when the frame was
// dropped: c is closing, or it just passed MaxPendingBytes and is being
// closed as a slow consumer (1008).
func (c *Conn) Enqueue(frame []byte) bool {
	c.mu.Lock()
	ok := c.EnqueueLocked(frame)
	c.mu.Unlock()
	return ok
}

// EnqueueMessage is Enqueue for a publication accepted at acceptedNano
// (UnixNano), for the publish-to-write latency.
func (c *Conn) EnqueueMessage(frame []byte, acceptedNano int64) bool {
	c.mu.Lock()
	ok := c.EnqueueLocked(frame)
	if ok {
		c.stampLocked(acceptedNano)
	}
	c.mu.Unlock()
	return ok
}

// EnqueueLocked is Enqueue with c's Lock held.
func (c *Conn) EnqueueLocked(frame []byte) bool {
	if c.gone || c.closeCode != 0 {
		return false
	}
	if c.backlogLocked()+len(frame) > c.env.cfg.MaxPendingBytes {
		c.requestCloseLocked(codec.ClosePolicyViolation, codec.CloseReasonSlowConsumer, false)
		c.env.m.slowConsumers.Inc()
		return false
	}
	if c.out == nil {
		c.out = bytespool.Get()
	}
	*c.out = append(*c.out, frame...)
	c.scheduleLocked()
	return true
}

// Reply queues one text frame whose payload encode appends.
func (c *Conn) Reply(encode func([]byte) []byte) {
	c.mu.Lock()
	c.ReplyLocked(encode)
	c.mu.Unlock()
}

// ReplyLocked is Reply with c's Lock held.
func (c *Conn) ReplyLocked(encode func([]byte) []byte) {
	payload := bytespool.Get()
	frame := bytespool.Get()
	*payload = encode((*payload)[:0])
	*frame = ws.AppendTextFrame((*frame)[:0], *payload)
	c.EnqueueLocked(*frame)
	bytespool.Put(payload)
	bytespool.Put(frame)
}

// ReplyError queues an error reply (PROTOCOL.md, "Errors").
func (c *Conn) ReplyError(id, code, msg string) {
	c.Reply(func(dst []byte) []byte { return codec.AppendError(dst, id, code, msg) })
}

// Ping queues a ping with an empty payload.
func (c *Conn) Ping() { c.Enqueue(pingFrame) }

// Pong queues a pong echoing payload (at most ws.MaxControlPayload bytes).
func (c *Conn) Pong(payload []byte) {
	var b [2 + ws.MaxControlPayload]byte
	c.Enqueue(append(ws.AppendFrameHeader(b[:0], ws.OpPong, len(payload)), payload...))
}

// kick schedules the flush deferred while the socket was busy. nbio's lock
// of the socket is held (OnWritten).
func (c *Conn) kick() {
	c.mu.Lock()
	if c.out != nil || c.closeCode != 0 {
		c.scheduleLocked()
	}
	c.mu.Unlock()
}

func (c *Conn) scheduleLocked() {
	if !c.queued {
		c.queued = true
		c.env.writerOf(c).push(c)
	}
}

// busy reports whether nbio still queues bytes for the socket: the kernel
// took less than was handed to it.
func (c *Conn) busy() bool { return c.handed.Load() != c.written.Load() }

// flush hands c's pending bytes to the socket in one write, followed by the
// close frame when one was requested. While nbio still queues earlier
// bytes for a socket that does not keep up, data waits in out (OnWritten
// schedules the flush once nbio's queue is empty); a close goes at once.
// Only c's writer calls it.
func (c *Conn) flush() {
	c.wmu.Lock()
	defer c.wmu.Unlock()

	c.mu.Lock()
	if c.closeCode == 0 && !c.gone && c.busy() {
		c.queued = false
		c.deferred.Store(true)
		if c.busy() { // else OnWritten may have missed the flag: go on
			c.mu.Unlock()
			return
		}
		c.deferred.Store(false)
		c.queued = true
	}
	c.handedOutLocked()
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
				c.env.m.observeLatency(since)
			}
		}
		bytespool.Put(out)
	}
	if gone || code == 0 || c.closeSent {
		return
	}
	c.sendOurCloseLocked(code, reason)
}

// write hands b to the connection: plain, or through TLS. nbio's Write
// never blocks: what the kernel does not take now is queued by nbio and
// counted in the backlog. A write error means nbio closed the connection;
// CloseAndClean cleans up. c.wmu must be held.
func (c *Conn) write(b []byte) {
	c.env.m.writes.Inc()
	n := int64(len(b)) // what reaches the socket: TLS records under TLS
	if c.tlsOverhead > 0 {
		n += int64((len(b)+maxTLSRecord-1)/maxTLSRecord) * int64(c.tlsOverhead)
	}
	c.inflight.Store(n) // before handed: never count them twice
	c.handed.Add(n)
	_, _ = c.w.Write(b)
	if c.nbc == nil { // detached: the writer took it all, synchronously
		c.written.Add(n)
	}
	c.inflight.Store(0)
}
