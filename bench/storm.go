package main

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"
)

// Targets of issue #11 for the storm, shown beside the figures.
const (
	stormTargetDisconnectUS = 60.0 // server CPU per disconnect, µs
	stormTargetP99Ratio     = 2.0  // storm p99 over steady p99
)

// gaugePoll is how often the storm scrapes the server's gauges while it
// waits for them to settle. Each scrape costs the server CPU (wsfan:
// ~1.5 ms here), which the net figures subtract.
const gaugePoll = 50 * time.Millisecond

// scrapeProbes is how many scrapes measure a scrape's cost.
const scrapeProbes = 10

// stormResult is the storm scenario: per stage, the steady state and each
// disconnect-reconnect round.
type stormResult struct {
	Channels  int `json:"channels"`
	Observers int `json:"observers"`
	// ScrapeCostUS is the server CPU one /metrics scrape costs, measured
	// before the first connection.
	ScrapeCostUS float64      `json:"server_cpu_us_per_scrape"`
	Stages       []stormStage `json:"stages"`
}

// stormStage is one connection count: Leaving connections drop and come
// back, the observers stay. The figures are medians over the rounds.
type stormStage struct {
	Leaving         int          `json:"leaving"`
	Steady          stormWindow  `json:"steady"`
	Rounds          []stormRound `json:"rounds"`
	DisconnectUS    float64      `json:"server_cpu_us_per_disconnect"`
	DisconnectNetUS float64      `json:"server_cpu_us_per_disconnect_net"`
	ReconnectUS     float64      `json:"server_cpu_us_per_reconnect"`
	ReconnectNetUS  float64      `json:"server_cpu_us_per_reconnect_net"`
	P99Ratio        float64      `json:"storm_p99_over_steady"`
}

// stormWindow is a stretch of time on the server and the observers.
type stormWindow struct {
	Seconds          float64 `json:"seconds"`
	ServerCPU        float64 `json:"server_cpu_s"`
	ServerCores      float64 `json:"server_cores"`
	LoadCores        float64 `json:"load_cores"`
	OtherCores       float64 `json:"other_cores"`
	Deliveries       float64 `json:"server_deliveries"` // wsfan_deliveries_total delta
	CPUPerDeliveryUS float64 `json:"server_cpu_us_per_delivery"`
	Publications     int64   `json:"publications"`
	Latency          latency `json:"observer_latency"` // publisher send to observer receipt
}

// stormRound is one mass disconnect and the reconnect that follows.
type stormRound struct {
	Disconnect stormPhase `json:"disconnect"`
	Reconnect  stormPhase `json:"reconnect"`
	// Storm covers both phases: from the drop to the reconnect's gauges.
	Storm    stormWindow `json:"storm"`
	P99Ratio float64     `json:"p99_over_steady"`
}

// stormPhase is the disconnect or the reconnect of a round. Its time runs
// from the command to the load processes until the server's gauges read
// what they must (Gauges.Settled), so ServerCPU is all the work the
// server did for it, plus the publications and the gauge scrapes of that
// time: Net subtracts those, the deliveries at the steady state's CPU per
// delivery and the scrapes at their measured cost.
type stormPhase struct {
	Count          int64   `json:"count"`  // sockets dropped, or reconnects subscribed
	Failed         int64   `json:"failed"` // reconnects that failed
	Seconds        float64 `json:"seconds"`
	ClientSeconds  float64 `json:"client_seconds"` // until the load processes were done
	ServerCPU      float64 `json:"server_cpu_s"`
	Deliveries     float64 `json:"server_deliveries"`
	Scrapes        int64   `json:"scrapes"`
	PerConnUS      float64 `json:"server_cpu_us_per_conn"`
	NetPerConnUS   float64 `json:"server_cpu_us_per_conn_net"`
	PerSec         float64 `json:"per_s"`
	ConnectLatency latency `json:"connect_latency,omitempty"` // reconnect: dial to subscription ack
	Gauges         gauges  `json:"gauges"`
}

// gauges are the server's connection, subscription and channel gauges at
// the end of a phase, and what they must read.
type gauges struct {
	Connections   float64    `json:"connections"`
	Subscriptions float64    `json:"subscriptions"`
	Channels      float64    `json:"channels"`
	Want          [3]float64 `json:"want"`
	Settled       bool       `json:"settled"`
}

func (g gauges) String() string {
	ok := "ok"
	if !g.Settled {
		ok = fmt.Sprintf("NOT %v/%v/%v", g.Want[0], g.Want[1], g.Want[2])
	}
	return fmt.Sprintf("%v/%v/%v %s", g.Connections, g.Subscriptions, g.Channels, ok)
}

// planGauges returns the subscriptions and distinct channels of
// connections 0..conns-1.
func (p *plan) planGauges(conns int) (subs, chans int) {
	m := p.subscribers(conns)
	for _, n := range m {
		subs += n
	}
	return subs, len(m)
}

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
		ServerCores:  sp.serverCores(),
		LoadCores:    sp.loadCores(),
		OtherCores:   sp.otherCores(),
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
	r.Disconnect = c.stormPhase(m0, m1, m1.dropped-m0.dropped, 0, perDelivery)
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
	r.Reconnect = c.stormPhase(m1, m2, m2.redialDone-m1.redialDone, m2.redialFail-m1.redialFail, perDelivery)
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

// scrapeCost measures the server CPU of one /metrics scrape (µs), before
// any connection: 0 without a pid.
func (c *coordinator) scrapeCost() float64 {
	if c.tgt.pid <= 0 {
		return 0
	}
	a, err := readProc(c.tgt.pid)
	if err != nil {
		return 0
	}
	for range scrapeProbes {
		if _, err := c.scrape(); err != nil {
			return 0
		}
	}
	b, err := readProc(c.tgt.pid)
	if err != nil {
		return 0
	}
	cpu := b.CPUSeconds - a.CPUSeconds
	if a.CPUClock >= 0 && b.CPUClock >= 0 {
		cpu = b.CPUClock - a.CPUClock
	}
	return cpu * 1e6 / scrapeProbes
}

// waitGauges scrapes the server's gauges every gaugePoll until they read
// want (connections, subscriptions, channels) or 30 s pass, handling the
// load processes' events meanwhile; it returns them and the mark when
// they settled (or gave up).
func (c *coordinator) waitGauges(want [3]float64) (gauges, mark, error) {
	deadline := time.Now().Add(30 * time.Second)
	t := time.NewTicker(gaugePoll)
	defer t.Stop()
	g := gauges{Want: want}
	for {
		met, err := c.scrape()
		if err != nil {
			return g, mark{}, err
		}
		g.Connections, g.Subscriptions, g.Channels = met.get(mConnections), met.get(mSubscriptions), met.get(mChannels)
		g.Settled = [3]float64{g.Connections, g.Subscriptions, g.Channels} == want
		if g.Settled || time.Now().After(deadline) {
			return g, c.mark(), nil
		}
		select {
		case s := <-c.events:
			if err := c.handle(s); err != nil {
				return g, mark{}, err
			}
		case <-t.C:
		case <-c.ctx.Done():
			return g, mark{}, fmt.Errorf("run stopped: %w", c.ctx.Err())
		}
		if !c.tgt.alive() {
			return g, mark{}, fmt.Errorf("the server exited:\n%s", c.tgt.logTail())
		}
	}
}

// summarize sets the stage's medians over its rounds.
func (st *stormStage) summarize() {
	med := func(f func(r *stormRound) float64) float64 {
		v := make([]float64, len(st.Rounds))
		for i := range st.Rounds {
			v[i] = f(&st.Rounds[i])
		}
		return median(v)
	}
	st.DisconnectUS = med(func(r *stormRound) float64 { return r.Disconnect.PerConnUS })
	st.DisconnectNetUS = med(func(r *stormRound) float64 { return r.Disconnect.NetPerConnUS })
	st.ReconnectUS = med(func(r *stormRound) float64 { return r.Reconnect.PerConnUS })
	st.ReconnectNetUS = med(func(r *stormRound) float64 { return r.Reconnect.NetPerConnUS })
	st.P99Ratio = med(func(r *stormRound) float64 { return r.P99Ratio })
}

// median of v (the mean of the middle two for an even count); 0 if empty.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
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

// disconnectRange is the least and most net CPU per disconnect of the
// stages.
func (sr *stormResult) disconnectRange() (lo, hi float64) {
	for i, st := range sr.Stages {
		if i == 0 || st.DisconnectNetUS < lo {
			lo = st.DisconnectNetUS
		}
		hi = max(hi, st.DisconnectNetUS)
	}
	return lo, hi
}

func printStorm(w io.Writer, sr *stormResult) {
	fmt.Fprintf(w, "\nstorm: %d channels shared by everyone, %d observers stay; net = server CPU minus the phase's deliveries at the steady state's CPU per delivery and its gauge scrapes at %.0f µs each\n",
		sr.Channels, sr.Observers, sr.ScrapeCostUS)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "leaving\tround\tdisconnect s\tµs/disconnect\tnet µs\treconnect s\treconnects/s\tµs/reconnect\tnet µs\tfailed\tconnect p50 ms\tp99 ms\tgauges after drop\tafter reconnect\t")
	for _, st := range sr.Stages {
		for i, r := range st.Rounds {
			d, rc := r.Disconnect, r.Reconnect
			fmt.Fprintf(tw, "%d\t%d\t%.2f\t%.1f\t%.1f\t%.2f\t%.0f\t%.1f\t%.1f\t%d\t%.1f\t%.1f\t%s\t%s\t\n",
				st.Leaving, i+1, d.Seconds, d.PerConnUS, d.NetPerConnUS, rc.Seconds, rc.PerSec, rc.PerConnUS, rc.NetPerConnUS,
				rc.Failed, rc.ConnectLatency.P50, rc.ConnectLatency.P99, d.Gauges, rc.Gauges)
		}
	}
	tw.Flush()
	fmt.Fprintln(w, "publication latency on the observers (publisher send to receipt), steady vs storm")
	fmt.Fprintln(tw, "leaving\tround\tsteady count\tp50 ms\tp99 ms\tmax ms\tstorm count\tp50 ms\tp99 ms\tmax ms\tp99 storm/steady\tsteady server cores\tµs/delivery\t")
	for _, st := range sr.Stages {
		s := st.Steady
		for i, r := range st.Rounds {
			l := r.Storm.Latency
			fmt.Fprintf(tw, "%d\t%d\t%d\t%.1f\t%.1f\t%.1f\t%d\t%.1f\t%.1f\t%.1f\t%.2f\t%.2f\t%.2f\t\n",
				st.Leaving, i+1, s.Latency.Count, s.Latency.P50, s.Latency.P99, s.Latency.Max, l.Count, l.P50, l.P99, l.Max, r.P99Ratio,
				s.ServerCores, s.CPUPerDeliveryUS)
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "targets (issue #11): server CPU per disconnect ≤ %.0f µs, flat over the stages; storm p99 ≤ %.0fx steady\n", stormTargetDisconnectUS, stormTargetP99Ratio)
	for _, st := range sr.Stages {
		fmt.Fprintf(w, "  %d leaving: %.1f µs per disconnect (net; %.1f gross), %.1f per reconnect (net; %.1f gross), p99 ratio %.2f\n",
			st.Leaving, st.DisconnectNetUS, st.DisconnectUS, st.ReconnectNetUS, st.ReconnectUS, st.P99Ratio)
	}
}
