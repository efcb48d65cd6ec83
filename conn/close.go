package conn

import (
	"syscall"
	"time"

	"wsfan/lib/bytespool"
	"wsfan/ws"
)

// closeGrace is how long a connection may take, after the server sent its
// close frame, to drain what is queued for it and answer the close; then
// the socket is shut down regardless.
const closeGrace = 5 * time.Second

// Socket shutdown steps (Conn.shut), in the order they happen.
const (
	shutNone  = iota
	shutWrite // our close frame went out, then FIN: the peer reads EOF
	shutBoth  // both ways: nbio's poller sees the hang-up and closes the socket
)

// RequestClose asks for a close frame with code and reason to be sent after
// whatever is queued (flush) or instead of it (!flush), then for the socket
// to be shut down once the peer answers or closeGrace passes. It returns
// false when a close was already requested.
func (c *Conn) RequestClose(code int, reason string, flush bool) bool {
	c.mu.Lock()
	ok := c.requestCloseLocked(code, reason, flush)
	c.mu.Unlock()
	return ok
}

func (c *Conn) requestCloseLocked(code int, reason string, flush bool) bool {
	if c.gone || c.closeCode != 0 {
		return false
	}
	c.closeCode, c.closeReason, c.flushOnClose = int16(code), reason, flush
	if !flush {
		bytespool.Put(c.out)
		c.out = nil
		c.handedOutLocked()
	}
	c.scheduleLocked()
	return true
}

// sendOurCloseLocked writes the server's close frame, tells the reader to
// look only for the peer's answer, and arms the close grace. c.wmu must be
// held.
func (c *Conn) sendOurCloseLocked(code int, reason string) {
	var fb [2 + 2 + ws.MaxCloseReason]byte
	c.sendCloseLocked(ws.AppendCloseFrame(fb[:0], code, reason))
	c.rmu.Lock()
	c.rd.Closing()
	c.rmu.Unlock()
	if c.timer != nil {
		c.timer.Stop() // the token's expiry no longer matters
	}
	c.timer = time.AfterFunc(closeGrace, c.shutdownNow)
}

// sendCloseLocked writes frame, our close frame or the echo of the peer's,
// and shuts the socket down as soon as nbio has handed it to the kernel.
// c.wmu must be held.
func (c *Conn) sendCloseLocked(frame []byte) {
	c.closeSent = true
	c.write(frame)
	c.closing.Store(true)
	if c.nbc != nil {
		c.nbc.Lock()
		c.shutdownIfFlushedLocked()
		c.nbc.Unlock()
	}
}

// shutdownIfFlushedLocked shuts the socket down once the close frame and
// everything before it left nbio's queue: the write side when the peer has
// yet to answer, both sides once it has. nbio's connection lock must be
// held (nbio holds it when it reports a write), so that the descriptor
// cannot be closed, and reused, meanwhile.
func (c *Conn) shutdownIfFlushedLocked() {
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
func (c *Conn) shutdownNow() {
	if c.nbc == nil {
		return
	}
	c.nbc.Lock()
	defer c.nbc.Unlock()
	if c.shut.Swap(shutBoth) == shutBoth {
		return
	}
	if closed, _ := c.nbc.IsClosed(); !closed {
		shutdownFD(c.nbc.Hash(), syscall.SHUT_RDWR)
	}
}

// shutdownFD is shutdown(2) on the socket fd; errors (the peer already gone)
// change nothing: nbio's poller closes the socket either way.
func shutdownFD(fd, how int) {
	_ = syscall.Shutdown(fd, how)
}

// peerClose answers the peer's close frame: with the same code (none for
// a close without one) unless the server already sent its own close, and
// then shuts the socket down. It runs on the connection's nbio executor.
func (c *Conn) peerClose(code int, reason string) {
	c.peerClosed.Store(true)
	c.mu.Lock()
	if c.closeCode == 0 {
		// Nothing more is enqueued; what is pending is dropped.
		c.closeCode, c.closeReason = int16(code), reason
		bytespool.Put(c.out)
		c.out = nil
		c.handedOutLocked()
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

// ArmTimer runs fn after d, unless the close frame goes out first: for a
// token that expires before the heartbeat's next visit. Once per
// connection; a second call does nothing.
func (c *Conn) ArmTimer(d time.Duration, fn func()) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.timer == nil && !c.closeSent {
		c.timer = time.AfterFunc(d, fn)
	}
}

// ClearReadDeadline removes a read deadline nbio may set after the upgrade
// already cleared it (see server's handshake settling); a connection being
// closed keeps its close-grace deadline.
func (c *Conn) ClearReadDeadline() {
	if c.nbc != nil && !c.Closing() {
		_ = c.nbc.SetReadDeadline(time.Time{})
	}
}

// markGone records that the socket is gone and takes the subscriptions
// out, for the Handler to leave. Called once, from CloseAndClean, on the
// connection's executor.
func (c *Conn) markGone() Subs {
	c.mu.Lock()
	c.gone = true
	bytespool.Put(c.out)
	c.out = nil
	c.handedOutLocked()
	held := c.subs
	c.subs = Subs{}
	c.mu.Unlock()

	c.wmu.Lock()
	if c.timer != nil {
		c.timer.Stop()
	}
	c.wmu.Unlock()
	c.rmu.Lock()
	c.rd.Release()
	c.rmu.Unlock()
	if c.deflate {
		c.env.m.deflateConns.Add(-1)
	}
	return held
}
