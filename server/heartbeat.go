package server

import (
	"sync"
	"time"

	"wsfan/codec"
	"wsfan/conn"
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
// connection's read deadline once more; see settling.
const handshakeSettle = time.Second

// heartbeatBuckets is the registry's bucket count for ping_interval.
func heartbeatBuckets(ping time.Duration) int {
	return max(1, int(ping/heartbeatTick))
}

// settling holds the connections upgraded within the last handshakeSettle,
// whose read deadline the heartbeat clears once more: nbio v1.6.12 sets the
// handshake deadline in the listener goroutine after handing the connection
// to a poller (nbhttp/engine.go, AddConnNonTLSNonBlocking), so a fast client
// can be upgraded, its deadline cleared, and then be cut 10 s later. By
// handshakeSettle that goroutine has long run.
type settling struct {
	mu    sync.Mutex
	conns []*conn.Conn // in upgrade order
	at    []int64      // at[i] is when conns[i] was upgraded (UnixNano)
}

func (q *settling) add(c *conn.Conn, now int64) {
	q.mu.Lock()
	q.conns = append(q.conns, c)
	q.at = append(q.at, now)
	q.mu.Unlock()
}

// settled takes out the connections upgraded before cutoff (UnixNano).
func (q *settling) settled(cutoff int64, buf []*conn.Conn) []*conn.Conn {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for n < len(q.conns) && q.at[n] < cutoff {
		n++
	}
	buf = append(buf[:0], q.conns[:n]...)
	left := len(q.conns) - n
	copy(q.conns, q.conns[n:])
	clear(q.conns[left:]) // no stale pointers past the end
	q.conns = q.conns[:left]
	q.at = append(q.at[:0], q.at[n:]...)
	return buf
}

// heartbeats runs one ticker for all connections. Each tick it visits one
// bucket of the registry: those connections are pinged, and closed if
// silent for idle_timeout or past their token's expiry (a token that
// expires before the next visit gets a timer of its own). It also clears
// the handshake deadline of new connections and, every sweepEvery ticks,
// sweeps one shard of the channel index. No tick touches every connection.
func (s *Server) heartbeats() {
	defer s.bg.Done()
	ping := s.cfg.PingInterval
	idle := s.cfg.IdleTimeout
	t := time.NewTicker(heartbeatTick)
	defer t.Stop()
	var scratch, settled []*conn.Conn
	for tick := 0; ; tick++ {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			deadline := now.Add(-idle).UnixNano()
			scratch = s.reg.visit(tick, scratch, func(c *conn.Conn) {
				if c.LastSeen() < deadline {
					if c.RequestClose(codec.CloseGoingAway, codec.CloseReasonIdle, false) {
						s.m.idleCloses.Inc()
					}
					return
				}
				if !s.checkExpiry(c, now, ping) {
					c.Ping()
				}
			})
			settled = s.settling.settled(now.Add(-handshakeSettle).UnixNano(), settled)
			for _, c := range settled {
				c.ClearReadDeadline()
			}
			clear(settled)
			if tick%sweepEvery == 0 {
				s.hub.Sweep(tick/sweepEvery%s.hub.Shards(), now)
			}
		}
	}
}

// checkExpiry closes c when its token has expired (plus auth.leeway), or
// arms a timer when it will expire within next, before the heartbeat's
// next visit. It reports whether c is being closed.
func (s *Server) checkExpiry(c *conn.Conn, now time.Time, next time.Duration) bool {
	id := c.Identity()
	if id.Anonymous || id.Expires.IsZero() {
		return false
	}
	expires := id.Expires.Add(s.cfg.Auth.Leeway)
	if !now.Before(expires) {
		s.expire(c)
		return true
	}
	if expires.Before(now.Add(next)) {
		c.ArmTimer(expires.Sub(now), func() { s.expire(c) })
	}
	return false
}

// expire closes c with 1008 "token expired" and counts it.
func (s *Server) expire(c *conn.Conn) {
	if c.RequestClose(codec.ClosePolicyViolation, codec.CloseReasonTokenExpired, false) {
		s.m.tokenExpired.Inc()
	}
}
