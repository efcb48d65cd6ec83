package loop

import (
	"sync"
	"time"

	"wsfan/codec"
)

// heartbeatTick is how often the heartbeat runs; each tick visits one
// registry bucket (ping_interval / heartbeatTick of them), so that a tick's
// pings are a short burst of writes: 40 at 10,000 connections pinged every
// 5 s.
const heartbeatTick = 20 * time.Millisecond

// sweepEvery is how many ticks apart the channel sweep visits the next
// index shard: with 16 shards, every channel once every 16 s.
const sweepEvery = int(time.Second / heartbeatTick)

// handshakeSettle is how long after an upgrade the heartbeat clears the
// connection's read deadline once more; see clearHandshakeDeadline.
const handshakeSettle = time.Second

// heartbeatBuckets is the registry's bucket count for ping_interval.
func heartbeatBuckets(ping time.Duration) int {
	return max(1, int(ping/heartbeatTick))
}

// clearHandshakeDeadline removes the handshake read deadline nbio may set
// after the upgrade already cleared it: nbio v1.6.12 sets it in the
// listener goroutine after handing the connection to a poller
// (nbhttp/engine.go, AddConnNonTLSNonBlocking), so a fast client can be
// upgraded first and then be cut 10 s later. By handshakeSettle that
// goroutine has long run. A connection being closed keeps its close-grace
// deadline.
func (c *client) clearHandshakeDeadline() {
	c.mu.Lock()
	closing := c.gone || c.closeCode != 0
	c.mu.Unlock()
	if !closing {
		_ = c.nbc.SetReadDeadline(time.Time{})
	}
}

// settling holds the clients upgraded within the last handshakeSettle,
// whose deadline the heartbeat clears once more.
type settling struct {
	mu      sync.Mutex
	clients []*client // in upgrade order
	at      []int64   // at[i] is when clients[i] was upgraded (UnixNano)
}

func (q *settling) add(c *client, now int64) {
	q.mu.Lock()
	q.clients = append(q.clients, c)
	q.at = append(q.at, now)
	q.mu.Unlock()
}

// settled takes out the clients upgraded before cutoff (UnixNano).
func (q *settling) settled(cutoff int64, buf []*client) []*client {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for n < len(q.clients) && q.at[n] < cutoff {
		n++
	}
	buf = append(buf[:0], q.clients[:n]...)
	left := len(q.clients) - n
	copy(q.clients, q.clients[n:])
	clear(q.clients[left:]) // no stale pointers past the end
	q.clients = q.clients[:left]
	q.at = append(q.at[:0], q.at[n:]...)
	return buf
}

// heartbeats runs one ticker for all connections. Each tick it visits one
// bucket of the registry: those clients are pinged, and closed if silent
// for idle_timeout or past their token's expiry (a token that expires
// before the next visit gets a timer of its own). It also clears the
// handshake deadline of new connections and, every sweepEvery ticks,
// sweeps one shard of the channel index. No tick touches every connection.
func (s *Server) heartbeats() {
	defer s.bg.Done()
	ping := s.cfg.PingInterval
	idle := s.cfg.IdleTimeout
	t := time.NewTicker(heartbeatTick)
	defer t.Stop()
	var scratch, settled []*client
	for tick := 0; ; tick++ {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			deadline := now.Add(-idle).UnixNano()
			scratch = s.reg.visit(tick, scratch, func(c *client) {
				if c.lastSeen.Load() < deadline {
					if c.requestClose(codec.CloseGoingAway, codec.CloseReasonIdle, false) {
						s.m.idleCloses.Inc()
					}
					return
				}
				if !c.checkExpiry(now, ping) {
					c.enqueue(pingFrame)
				}
			})
			settled = s.settling.settled(now.Add(-handshakeSettle).UnixNano(), settled)
			for _, c := range settled {
				c.clearHandshakeDeadline()
			}
			clear(settled)
			if tick%sweepEvery == 0 {
				s.sweepShard(tick/sweepEvery%s.idx.Shards(), now)
			}
		}
	}
}

// checkExpiry closes c when its token has expired (plus auth.leeway), or
// arms a timer when it will expire within next, before the heartbeat's
// next visit. It reports whether c is being closed.
func (c *client) checkExpiry(now time.Time, next time.Duration) bool {
	if c.ident.Anonymous || c.ident.Expires.IsZero() {
		return false
	}
	expires := c.ident.Expires.Add(c.srv.cfg.Auth.Leeway)
	if !now.Before(expires) {
		c.expire()
		return true
	}
	if expires.Before(now.Add(next)) {
		c.armExpiry(expires.Sub(now))
	}
	return false
}

// expire closes c with 1008 "token expired" and counts it.
func (c *client) expire() {
	if c.requestClose(codec.ClosePolicyViolation, codec.CloseReasonTokenExpired, false) {
		c.srv.m.tokenExpired.Inc()
	}
}

// armExpiry closes c after d, when its token expires before the heartbeat
// visits it again; once per connection.
func (c *client) armExpiry(d time.Duration) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.timer == nil && !c.closeSent {
		c.timer = time.AfterFunc(d, c.expire)
	}
}
