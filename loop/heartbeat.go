package loop

import (
	"time"
	"wsfan/codec"
)

// maxHeartbeatTick bounds how late an idle connection is noticed.
const maxHeartbeatTick = time.Second

// handshakeSettle is how long after an upgrade the heartbeat clears the
// connection's read deadline once more; see clearHandshakeDeadline.
const handshakeSettle = time.Second

// clearHandshakeDeadline removes the handshake read deadline nbio may set
// after the upgrade already cleared it: nbio v1.6.12 sets it in the
// listener goroutine after handing the connection to a poller
// (nbhttp/engine.go, AddConnNonTLSNonBlocking), so a fast client can be
// upgraded first and then be cut 10 s later. By handshakeSettle that
// goroutine has long run. A connection being closed keeps its close-grace
// deadline.
func (c *client) clearHandshakeDeadline() {
	c.handshakeCleared = true
	c.mu.Lock()
	closing := c.gone || c.closeCode != 0
	c.mu.Unlock()
	if !closing {
		_ = c.conn.SetReadDeadline(time.Time{})
	}
}

// heartbeats runs one ticker for all connections: it pings each every
// ping_interval, closes those silent for idle_timeout, and sweeps idle
// channel state. No timer per connection.
func (s *Server) heartbeats() {
	defer s.bg.Done()
	ping := s.cfg.PingInterval.D()
	idle := s.cfg.IdleTimeout.D()
	tick := min(ping, maxHeartbeatTick)
	t := time.NewTicker(tick)
	defer t.Stop()
	lastPing := time.Now()
	lastSweep := lastPing
	var scratch []*client
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			doPing := now.Sub(lastPing) >= ping
			if doPing {
				lastPing = now
			}
			deadline := now.Add(-idle).UnixNano()
			settled := now.Add(-handshakeSettle).UnixNano()
			scratch = s.reg.each(scratch, func(c *client) {
				if c.lastSeen.Load() < deadline {
					if c.requestClose(codec.CloseGoingAway, codec.CloseReasonIdle, false) {
						s.m.idleCloses.Inc()
					}
					return
				}
				if !c.ident.Anonymous && !c.ident.Expires.IsZero() && now.After(c.ident.Expires) {
					if c.requestClose(codec.ClosePolicyViolation, codec.CloseReasonTokenExpired, false) {
						s.m.tokenExpired.Inc()
					}
					return
				}
				if !c.handshakeCleared && c.openedAt < settled {
					c.clearHandshakeDeadline()
				}
				if doPing {
					c.enqueue(pingFrame)
				}
			})
			if now.Sub(lastSweep) >= time.Minute {
				lastSweep = now
				s.sweepChannels(now)
			}
		}
	}
}
