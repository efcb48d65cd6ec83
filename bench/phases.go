package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Criteria of the hot scenario: a step keeps up while the clients receive
// at least keepUpRatio of the deliveries its publications owe, p99 stays
// under keepUpP99, and no client is closed as a slow consumer.
const (
	keepUpRatio = 0.9
	keepUpP99   = 1000.0 // ms
)

// grow ramps to stage i's connection target n, lets the server settle and
// records the stage.
func (c *coordinator) grow(i, n int) error {
	o := c.o
	prev := 0
	if i > 0 {
		prev = o.totalConns(o.Stages[i-1])
	}
	m0, err := c.startPhase(fmt.Sprintf("ramp to %d", n))
	if err != nil {
		return err
	}
	if !o.Quiet {
		c.barBase = m0.acked + m0.failed
		c.bar = progressbar.NewOptions(n-prev,
			progressbar.OptionSetWriter(os.Stderr),
			progressbar.OptionSetDescription(fmt.Sprintf("%s: connecting %d..%d", o.Label, prev, n)),
			progressbar.OptionShowCount(),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetWidth(30),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(os.Stderr) }),
		)
	}
	c.send(command{Op: "grow", Target: n})
	timeout := time.Duration(float64(n-prev)/o.Ramp*float64(time.Second)) + o.DialTimeout + time.Minute
	ok, err := c.wait(func() bool { return c.allSaw(evGrown, i+1) }, timeout)
	if c.bar != nil {
		_ = c.bar.Finish()
		c.bar = nil
	}
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("the ramp to %d connections did not finish within %v", n, timeout)
	}
	m1, err := c.measure()
	if err != nil {
		return err
	}
	sp := span{m0, m1}
	st := stageResult{
		Target:         n,
		Connected:      sp.delta(func(m mark) int64 { return m.acked }),
		Failed:         sp.delta(func(m mark) int64 { return m.failed }),
		Seconds:        sp.secs(),
		ConnectLatency: summarize(c.connHist),
		ServerCores:    sp.serverCores(),
		LoadCores:      sp.loadCores(),
		OtherCores:     sp.otherCores(),
	}
	st.ConnectsPerSec = ratio(float64(st.Connected), st.Seconds)
	c.phase = "settle"
	if _, err := c.wait(nil, o.Settle); err != nil {
		return err
	}
	m2, err := c.measure()
	if err != nil {
		return err
	}
	st.Open = m2.open
	if m2.srvOK {
		st.ServerRSSKB = m2.srv.RSSKB
		if st.Open > 0 {
			st.KBPerConn = float64(st.ServerRSSKB-c.res.Server.RSSStartKB) / float64(st.Open)
		}
	}
	if met, err := c.scrape(); err == nil {
		if v := met.get(mHeapInuse); v >= 0 {
			st.HeapInuseKB = int64(v / 1024)
		}
	}
	for _, pid := range c.loadCPUs.pids {
		if s, err := readProc(pid); err == nil {
			st.LoadRSSKB += s.RSSKB
		}
	}
	c.res.Stages = append(c.res.Stages, st)
	if st.Failed > 0 {
		c.note("ramp to %d: %d connections failed (%v)", n, st.Failed, c.failReasons())
	}
	return nil
}

// startPublisher runs the publisher at rate until the returned stop is
// called; stop returns when every request in flight has finished.
func (c *coordinator) startPublisher(rate float64) (stop func()) {
	c.pub.setRate(rate)
	ctx, cancel := context.WithCancel(c.ctx)
	done := make(chan struct{})
	go func() { c.pub.run(ctx, c.o.Seed); close(done) }()
	return func() { cancel(); <-done }
}

// publishLast publishes each token channel's last value (-last-value)
// once the publisher has stopped.
func (c *coordinator) publishLast() {
	if !c.o.LastValue {
		return
	}
	c.lastValues = c.pub.publishLast()
	if n := c.o.Tokens - len(c.lastValues); n > 0 {
		c.note("last value: %d of %d channels' last publications were not accepted: their last value is not checked", n, c.o.Tokens)
	}
}

// drainStall ends a drain when nothing more arrived for this long.
const drainStall = 2 * time.Second

// drain waits until the clients received what the publications since m0
// owe, nothing arrived for drainStall, or o.Drain passed; it refreshes
// every 100 ms. A drain cut short by o.Drain while deliveries still
// arrived is noted: what is missing then was late, not lost.
func (c *coordinator) drain(m0 mark) error {
	owed := c.pub.expected.Load() - m0.expected
	deadline := time.Now().Add(c.o.Drain)
	got := func() int64 { return c.sum(func(s *snapshot) int64 { return s.Received }) - m0.received }
	if c.o.isStorm() { // what is owed is the observers'
		got = func() int64 { return c.sum(func(s *snapshot) int64 { return s.ObsReceived }) - m0.obsReceived }
	}
	last, lastChange := got(), time.Now()
	for {
		if time.Since(c.last.at) >= c.o.Interval {
			if _, err := c.sample(); err != nil { // the drain belongs in the time series
				return err
			}
		} else if err := c.refresh(); err != nil {
			return err
		}
		n := got()
		if n >= owed {
			return nil
		}
		if n != last {
			last, lastChange = n, time.Now()
		}
		if time.Since(lastChange) > drainStall {
			return nil
		}
		if time.Now().After(deadline) {
			c.note("drain: stopped after -drain %v with %d deliveries still owed and arriving: they were late, not (yet) lost", c.o.Drain, owed-n)
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// publish runs a constant rate for o.Duration, then drains.
func (c *coordinator) publish() error {
	o := c.o
	m0, err := c.startPhase("publish")
	if err != nil {
		return err
	}
	stop := c.startPublisher(o.Rate)
	_, err = c.wait(nil, o.Duration)
	stop()
	if err != nil {
		return err
	}
	c.publishLast()
	m1, err := c.measure()
	if err != nil {
		return err
	}
	c.phase = "drain"
	if err := c.drain(m0); err != nil {
		return err
	}
	m2, err := c.measure()
	if err != nil {
		return err
	}
	win, all := span{m0, m1}, span{m0, m2}
	r := &publishResult{
		Seconds:            win.secs(),
		DrainSeconds:       span{m1, m2}.secs(),
		RateTarget:         o.Rate,
		PubsPerSec:         win.per(func(m mark) int64 { return m.pubAccepted }),
		PubFailed:          all.delta(func(m mark) int64 { return m.pubFailed }),
		ExpectedPerSec:     win.per(func(m mark) int64 { return m.expected }),
		DeliveredPerSec:    win.per(func(m mark) int64 { return m.received }),
		Expected:           all.delta(func(m mark) int64 { return m.expected }),
		Received:           all.delta(func(m mark) int64 { return m.received }),
		ServerCores:        win.serverCores(),
		ClientReadsPerSec:  win.per(func(m mark) int64 { return m.reads }),
		LoadCores:          win.loadCores(),
		MachineCores:       win.machineCores(),
		SoftirqCores:       win.softirqCores(),
		IRQCores:           win.irqCores(),
		OtherCores:         win.otherCores(),
		CPUBusy:            win.cpuBusy(),
		Latency:            summarize(c.phaseHist),
		SlowConsumerCloses: all.delta(func(m mark) int64 { return m.closes1008 }),
	}
	r.CPUPerDeliveryUS = ratio(all.serverCPU()*1e6, float64(r.Received))
	r.LoadPerDeliveryUS = ratio((m2.loadCPU-m0.loadCPU)*1e6, float64(r.Received))
	r.FramesPerRead = ratio(float64(all.delta(func(m mark) int64 { return m.received })), float64(all.delta(func(m mark) int64 { return m.reads })))
	if w := win.serverWrites(); w >= 0 {
		r.ServerWritesPerSec = float64(w) / win.secs()
	}
	if w := win.syscallWrites(); w >= 0 {
		r.SyscallsPerSec = float64(w) / win.secs()
	}
	if w := all.serverWrites(); w > 0 {
		r.DeliveriesPerWrite = float64(r.Received) / float64(w)
	}
	r.ServerDeliveries = all.metricDelta(func(m mark) float64 { return m.srvDeliveries })
	r.ServerBytesPerSec = all.metricDelta(func(m mark) float64 { return m.bytesOut }) / all.secs()
	r.MeanFrameBytes = all.meanFrame()
	r.ServerWrittenPerSec = win.writtenPerSec(r.MeanFrameBytes)
	if r.ServerWrittenPerSec > 0 && r.DeliveredPerSec < 0.9*r.ServerWrittenPerSec {
		c.note("publish: the server wrote ~%.0f deliveries/s, the clients received %.0f/s: the load generator fell behind the server", r.ServerWrittenPerSec, r.DeliveredPerSec)
	}
	c.res.Publish = r
	if r.PubsPerSec < 0.95*o.Rate {
		c.note("publish: the publisher reached %.0f of %.0f publications/s (HTTP path or load CPU bound)", r.PubsPerSec, o.Rate)
	}
	c.checkCores("publish", win)
	return nil
}

// hot raises the rate step by step until the clients fall behind.
func (c *coordinator) hot() error {
	o := c.o
	h := &hotResult{}
	c.res.Hot = h
	rate := o.Rate
	var stop func()
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	var first mark
	for s := range o.HotSteps {
		m0, err := c.startPhase(fmt.Sprintf("hot %.0f/s", rate))
		if err != nil {
			return err
		}
		if s == 0 {
			first = m0
			stop = c.startPublisher(rate)
		} else {
			c.pub.setRate(rate)
		}
		if _, err := c.wait(nil, o.Step); err != nil {
			return err
		}
		m1, err := c.measure()
		if err != nil {
			return err
		}
		sp := span{m0, m1}
		st := hotStep{
			Rate:               rate,
			PubsPerSec:         sp.per(func(m mark) int64 { return m.pubAccepted }),
			ExpectedPerSec:     sp.per(func(m mark) int64 { return m.expected }),
			DeliveredPerSec:    sp.per(func(m mark) int64 { return m.received }),
			ServerCores:        sp.serverCores(),
			LoadCores:          sp.loadCores(),
			SoftirqCores:       sp.softirqCores(),
			IRQCores:           sp.irqCores(),
			OtherCores:         sp.otherCores(),
			CPUBusy:            sp.cpuBusy(),
			Latency:            summarize(c.phaseHist),
			SlowConsumerCloses: sp.delta(func(m mark) int64 { return m.closes1008 }),
		}
		st.Ratio = ratio(st.DeliveredPerSec, st.ExpectedPerSec)
		st.WrittenPerSec = sp.writtenPerSec(span{first, m1}.meanFrame())
		if w := sp.serverWrites(); w >= 0 {
			st.ServerWritesPerSec = float64(w) / sp.secs()
			st.DeliveriesPerWrite = ratio(float64(sp.delta(func(m mark) int64 { return m.received })), float64(w))
		}
		switch {
		case st.SlowConsumerCloses > 0:
			st.Why = fmt.Sprintf("%d slow-consumer closes", st.SlowConsumerCloses)
		case st.Ratio < keepUpRatio:
			st.Why = fmt.Sprintf("received %.0f%% of the deliveries owed", 100*st.Ratio)
		case st.Latency.P99 > keepUpP99:
			st.Why = fmt.Sprintf("p99 %.0f ms", st.Latency.P99)
		case st.PubsPerSec < keepUpRatio*rate-1/sp.secs():
			st.Why = fmt.Sprintf("the publisher reached %.0f of %.0f publications/s", st.PubsPerSec, rate)
		default:
			st.KeptUp = true
		}
		h.Steps = append(h.Steps, st)
		h.PeakDeliveredPerSec = max(h.PeakDeliveredPerSec, st.DeliveredPerSec)
		if st.KeptUp {
			h.SustainedPerSec = st.DeliveredPerSec
		} else {
			h.Saturated = true
			c.checkCores(fmt.Sprintf("hot step %.0f/s", rate), sp)
			if st.WrittenPerSec > 0 && st.DeliveredPerSec < 0.9*st.WrittenPerSec {
				c.note("hot step %.0f/s: the server wrote ~%.0f deliveries/s, the clients received %.0f/s: the load generator fell behind the server", rate, st.WrittenPerSec, st.DeliveredPerSec)
			}
			break
		}
		rate *= o.HotFactor
	}
	stop()
	stop = nil
	c.publishLast()
	m1, err := c.measure()
	if err != nil {
		return err
	}
	c.phase = "drain"
	if err := c.drain(first); err != nil {
		return err
	}
	m2, err := c.measure()
	if err != nil {
		return err
	}
	h.Drain = span{m1, m2}.secs()
	if !h.Saturated {
		c.note("hot: every step kept up; raise -hot-steps or -rate to find the saturation point")
	}
	return nil
}

// churn closes and re-dials connections o.Churn times.
func (c *coordinator) churn() error {
	o := c.o
	m0, err := c.startPhase("churn")
	if err != nil {
		return err
	}
	for _, w := range c.workers {
		n := o.Churn / len(c.workers)
		if w.id < o.Churn%len(c.workers) {
			n++
		}
		w.cmds <- command{Op: "churn", Count: n, Rate: o.ChurnRate / float64(len(c.workers))}
	}
	timeout := 5 * time.Minute
	ok, err := c.wait(func() bool { return c.allSaw(evChurned, 1) }, timeout)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("churn did not finish within %v", timeout)
	}
	m1, err := c.measure()
	if err != nil {
		return err
	}
	sp := span{m0, m1}
	r := &churnResult{
		Reconnects:     sp.delta(func(m mark) int64 { return m.churnDone }),
		Failed:         sp.delta(func(m mark) int64 { return m.churnFailed }),
		Seconds:        sp.secs(),
		ConnectLatency: summarize(c.connHist),
		ServerCores:    sp.serverCores(),
		LoadCores:      sp.loadCores(),
		OtherCores:     sp.otherCores(),
	}
	r.PerSec = ratio(float64(r.Reconnects), r.Seconds)
	c.res.Churn = r
	c.checkCores("churn", sp)
	return nil
}

// finish collects the exact loss accounting from every load process.
func (c *coordinator) finish() error {
	acc := map[string]uint64{}
	if c.pub != nil {
		acc = c.pub.acceptedPerChannel()
		c.pub.mu.Lock()
		c.res.PubErrors = cloneCounts(c.pub.errs)
		c.pub.mu.Unlock()
	}
	c.send(command{Op: "finish", Accepted: acc, ObserversOnly: c.o.isStorm(), Last: c.lastValues})
	ok, err := c.wait(func() bool { return c.allSaw(evFinal, 1) }, time.Minute)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("load processes did not report their loss accounting within a minute")
	}
	total := &lossTotals{}
	c.res.Closes, c.res.FailReasons = map[string]int64{}, map[string]int64{}
	for i := range c.latest {
		s := &c.latest[i]
		if s.Loss != nil {
			total.add(*s.Loss)
		}
		for k, v := range s.Closes {
			c.res.Closes[k] += v
		}
		c.res.CloseLog = append(c.res.CloseLog, s.CloseLog...)
		for k, v := range s.FailReasons {
			c.res.FailReasons[k] += v
		}
		c.res.FailLog = append(c.res.FailLog, s.FailLog...)
		c.res.ErrorFrames += s.ErrorFrames
	}
	c.res.Loss = total
	if c.o.isStorm() {
		c.res.LossScope = "observers"
	}
	if len(c.o.Conflate) > 0 || c.o.LastValue {
		c.res.Conflation = newConflationResult(c.o, total, c.res.Publish)
		for _, msg := range c.res.Conflation.Failures {
			c.note("conflation: %s", msg)
		}
	}
	if total.Missing > 0 || total.Gaps > 0 {
		c.note("loss: %d deliveries missing, %d seq gaps over %d connections", total.Missing, total.Gaps, total.LossyConns)
	}
	return nil
}

// closeAll closes every connection and waits for the server's gauges to
// read zero (DESIGN.md invariant 3: no zombies).
func (c *coordinator) closeAll() error {
	if _, err := c.startPhase("close"); err != nil {
		return err
	}
	c.send(command{Op: "close"})
	ok, err := c.wait(func() bool { return c.allSaw(evClosed, 1) }, 2*time.Minute)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("closing the connections took over 2 minutes")
	}
	end := &endResult{}
	start := time.Now()
	for {
		met, err := c.scrape()
		if err != nil {
			return err
		}
		end.Connections, end.Subscriptions, end.Channels = met.get(mConnections), met.get(mSubscriptions), met.get(mChannels)
		end.SlowConsumers = met.get(mSlowConsumers)
		end.ZeroAfter = time.Since(start).Seconds()
		if end.Connections == 0 && end.Subscriptions == 0 && end.Channels == 0 {
			end.Zero = true
			break
		}
		if time.Since(start) > 10*time.Second {
			c.note("after every client left, the server still reports %v connections, %v subscriptions, %v channels",
				end.Connections, end.Subscriptions, end.Channels)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if c.tgt.pid > 0 {
		if s, err := readProc(c.tgt.pid); err == nil {
			end.ServerRSSKB = s.RSSKB
		}
	}
	c.res.End = end
	_, err = c.measure()
	return err
}

func (c *coordinator) note(format string, a ...any) {
	c.res.Notes = append(c.res.Notes, fmt.Sprintf(format, a...))
}

// checkCores notes when the load processes or the server used (nearly)
// all the CPU they had: then that side may be what limits the numbers. It
// also notes CPU used outside both, which disturbs the run.
func (c *coordinator) checkCores(phase string, sp span) {
	server, load, other := sp.serverCores(), sp.loadCores(), sp.otherCores()
	all := machineCPUs()
	lc, _ := cpuCount(c.o.LoadCPUs)
	sc, _ := cpuCount(c.o.ServerCPUs)
	if lc == 0 {
		lc = all
	}
	if sc == 0 {
		sc = all
	}
	if load >= 0.85*float64(lc) {
		c.note("%s: the load generator used %.2f of its %d cores: the load, not the server, may be the bottleneck", phase, load, lc)
	}
	if c.tgt.pid > 0 && server >= 0.85*float64(sc) {
		c.note("%s: the server used %.2f of its %d cores: it is CPU bound", phase, server, sc)
	}
	if c.o.LoadCPUs == "" && c.o.ServerCPUs == "" && server+load >= 0.85*float64(all) {
		c.note("%s: server and load share %d cores and used %.2f together: neither had the machine to itself", phase, all, server+load)
	}
	if other >= 0.15 {
		c.note("%s: %.2f cores were busy outside the server, the load processes and ksoftirqd (per-CPU busy %s): other processes on the machine disturbed the run", phase, other, formatBusy(sp.cpuBusy()))
	}
}

func formatBusy(b []float64) string {
	parts := make([]string, len(b))
	for i, v := range b {
		parts[i] = fmt.Sprintf("cpu%d %.0f%%", i, 100*v)
	}
	return strings.Join(parts, ", ")
}

func (c *coordinator) failReasons() map[string]int64 {
	m := map[string]int64{}
	for i := range c.latest {
		for k, v := range c.latest[i].FailReasons {
			m[k] += v
		}
	}
	return m
}
