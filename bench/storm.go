package main

import (
	"fmt"
	"time"
)

// Targets of issue #11 for the storm, shown beside the figures.
const (
	stormTargetDisconnectUS = 60.0 // server CPU per disconnect, µs
	stormTargetP99Ratio     = 2.0  // storm p99 over steady p99
)

// storm runs every stage: ramp to observers + leaving, steady state, then
// the rounds. The publisher runs from the first steady state to the end.
func (c *coordinator) storm() error {
	o := c.o
	sr := &stormResult{Channels: len(c.plan.subscribers(1)), Observers: o.Observers, ScrapeCostUS: c.scrapeCost()}
	c.res.Storm = sr
	var stop func()
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	var first mark
	for i, n := range o.Stages {
		if err := c.grow(i, o.totalConns(n)); err != nil {
			return err
		}
		if stop == nil && o.Rate > 0 {
			m, err := c.measure()
			if err != nil {
				return err
			}
			first = m
			stop = c.startPublisher(o.Rate)
		}
		st := stormStage{Leaving: n}
		m0, err := c.startPhase(fmt.Sprintf("steady %d", n))
		if err != nil {
			return err
		}
		c.obsHist.Reset()
		if _, err := c.wait(nil, o.Duration); err != nil {
			return err
		}
		m1, err := c.measure()
		if err != nil {
			return err
		}
		st.Steady = c.window(m0, m1)
		for range o.StormRounds {
			rr, err := c.stormRound(n, &st.Steady)
			if err != nil {
				return err
			}
			st.Rounds = append(st.Rounds, rr)
			c.phase = "settle"
			if _, err := c.wait(nil, o.Settle); err != nil {
				return err
			}
		}
		st.summarize()
		sr.Stages = append(sr.Stages, st)
	}
	if stop != nil {
		stop()
		stop = nil
		c.phase = "drain"
		if err := c.drain(first); err != nil {
			return err
		}
	}
	c.checkStorm(sr)
	return nil
}

// window summarizes a..b; the observer latency is what c.obsHist holds.
func (c *coordinator) window(a, b mark) stormWindow {
	sp := span{a, b}
	w := stormWindow{
		Seconds:      sp.secs(),
		ServerCPU:    sp.serverCPU(),
		cores:        sp.cores(),
		Deliveries:   sp.metricDelta(func(m mark) float64 { return m.srvDeliveries }),
		Publications: sp.delta(func(m mark) int64 { return m.pubAccepted }),
		Latency:      summarize(c.obsHist),
	}
	w.CPUPerDeliveryUS = ratio(w.ServerCPU*1e6, w.Deliveries)
	return w
}

// stormRound drops every connection but the observers at once, waits
// until the server has let them go, then reconnects them all and waits
// until the server holds them again.
func (c *coordinator) stormRound(leaving int, steady *stormWindow) (stormRound, error) {
	o := c.o
	var r stormRound
	total := o.totalConns(leaving)
	obsSubs, obsChans := c.plan.planGauges(o.Observers)
	allSubs, allChans := c.plan.planGauges(total)
	perDelivery := ratio(steady.ServerCPU, steady.Deliveries) // s per delivery

	round := c.counts[0][evDropped] + 1
	m0, err := c.startPhase("disconnect")
	if err != nil {
		return r, err
	}
	c.obsHist.Reset()
	c.send(command{Op: "drop"})
	ok, err := c.wait(func() bool { return c.allSaw(evDropped, round) }, time.Minute)
	if err != nil {
		return r, err
	}
	if !ok {
		return r, fmt.Errorf("storm: the load processes did not close their sockets within a minute")
	}
	clientDone := time.Since(m0.at).Seconds()
	g, m1, err := c.waitGauges([3]float64{float64(o.Observers), float64(obsSubs), float64(obsChans)})
	if err != nil {
		return r, err
	}
	r.Disconnect = c.stormPhase(m0, m1, m1.load.Dropped-m0.load.Dropped, 0, perDelivery)
	r.Disconnect.ClientSeconds, r.Disconnect.Gauges = clientDone, g

	c.phase = "reconnect"
	c.connHist.Reset()
	c.send(command{Op: "redial"})
	ok, err = c.wait(func() bool { return c.allSaw(evRedial, round) }, 5*time.Minute)
	if err != nil {
		return r, err
	}
	if !ok {
		return r, fmt.Errorf("storm: the reconnect did not finish within 5 minutes")
	}
	clientDone = time.Since(m1.at).Seconds()
	if err := c.refresh(); err != nil {
		return r, err
	}
	g, m2, err := c.waitGauges([3]float64{float64(total), float64(allSubs), float64(allChans)})
	if err != nil {
		return r, err
	}
	r.Reconnect = c.stormPhase(m1, m2, m2.load.RedialDone-m1.load.RedialDone, m2.load.RedialFailed-m1.load.RedialFailed, perDelivery)
	r.Reconnect.ClientSeconds, r.Reconnect.Gauges = clientDone, g
	r.Reconnect.ConnectLatency = summarize(c.connHist)
	if err := c.refresh(); err != nil { // the observers' latest latencies
		return r, err
	}
	r.Storm = c.window(m0, m2)
	r.P99Ratio = ratio(r.Storm.Latency.P99, steady.Latency.P99)
	if g := r.Disconnect.Gauges; !g.Settled {
		c.note("storm %d: after the drop the server still reports %v (connections/subscriptions/channels)", leaving, g)
	}
	if g := r.Reconnect.Gauges; !g.Settled {
		c.note("storm %d: after the reconnect the server reports %v (connections/subscriptions/channels)", leaving, g)
	}
	if r.Reconnect.Failed > 0 {
		c.note("storm %d: %d reconnects failed (%v)", leaving, r.Reconnect.Failed, c.failReasons())
	}
	c.checkCores(fmt.Sprintf("storm %d", leaving), span{m0, m2})
	if _, err := c.measure(); err != nil { // a series point for the round
		return r, err
	}
	return r, nil
}

// stormPhase accounts a..b for n connections; perDelivery (CPU seconds)
// prices the deliveries the server made meanwhile, and the storm's
// measured scrape cost the scrapes.
func (c *coordinator) stormPhase(a, b mark, n, failed int64, perDelivery float64) stormPhase {
	sp := span{a, b}
	p := stormPhase{
		Count:      n,
		Failed:     failed,
		Seconds:    sp.secs(),
		ServerCPU:  sp.serverCPU(),
		Deliveries: sp.metricDelta(func(m mark) float64 { return m.srvDeliveries }),
		Scrapes:    b.scrapes - a.scrapes,
	}
	p.account(perDelivery, c.res.Storm.ScrapeCostUS/1e6)
	return p
}

// account sets the per-connection figures: gross, and net of the
// deliveries and scrapes the phase also paid for (CPU seconds each).
func (p *stormPhase) account(perDelivery, perScrape float64) {
	n := float64(p.Count)
	p.PerConnUS = ratio(p.ServerCPU*1e6, n)
	p.NetPerConnUS = ratio(max(0, p.ServerCPU-p.Deliveries*perDelivery-float64(p.Scrapes)*perScrape)*1e6, n)
	p.PerSec = ratio(n, p.Seconds)
}

// checkStorm notes where the storm misses issue #11's targets.
func (c *coordinator) checkStorm(sr *stormResult) {
	for _, st := range sr.Stages {
		if st.DisconnectNetUS > stormTargetDisconnectUS {
			c.note("storm %d: server CPU per disconnect %.1f µs (net of publishing) is above the %.0f µs target", st.Leaving, st.DisconnectNetUS, stormTargetDisconnectUS)
		}
		if st.P99Ratio > stormTargetP99Ratio {
			c.note("storm %d: publication p99 during the storm is %.1fx the steady state's (target ≤ %.0fx)", st.Leaving, st.P99Ratio, stormTargetP99Ratio)
		}
	}
	if lo, hi := sr.disconnectRange(); len(sr.Stages) > 1 && lo > 0 {
		c.note("storm: server CPU per disconnect (net) ranges %.1f-%.1f µs over %d stages (max/min %.2f)", lo, hi, len(sr.Stages), hi/lo)
	}
}
