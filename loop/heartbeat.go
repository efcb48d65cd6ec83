package loop

import "time"

// maxHeartbeatTick bounds how late an idle connection is noticed.
const maxHeartbeatTick = time.Second

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
			scratch = s.reg.each(scratch, func(c *client) {
				if c.lastSeen.Load() < deadline {
					if c.requestClose(closeGoingAway, reasonIdle, false) {
						s.m.idleCloses.Inc()
					}
					return
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
