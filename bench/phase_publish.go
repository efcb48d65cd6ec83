package main

import (
	"context"
	"time"
)

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
	got := func() int64 { return c.sum(func(s *snapshot) int64 { return s.Received }) - m0.load.Received }
	if c.o.isStorm() { // what is owed is the observers'
		got = func() int64 { return c.sum(func(s *snapshot) int64 { return s.ObsReceived }) - m0.load.ObsReceived }
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

// endPublishing follows a stopped publisher: each token channel's last
// value (-last-value), the mark that ends the publishing window, the drain
// of what the publications since m0 owe, and the mark that ends the drain.
func (c *coordinator) endPublishing(m0 mark) (end, drained mark, err error) {
	c.publishLast()
	if end, err = c.measure(); err != nil {
		return end, drained, err
	}
	c.phase = "drain"
	if err = c.drain(m0); err != nil {
		return end, drained, err
	}
	drained, err = c.measure()
	return end, drained, err
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
	m1, m2, err := c.endPublishing(m0)
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
		DeliveredPerSec:    win.per(func(m mark) int64 { return m.load.Received }),
		Expected:           all.delta(func(m mark) int64 { return m.expected }),
		Received:           all.delta(func(m mark) int64 { return m.load.Received }),
		cores:              win.cores(),
		ClientReadsPerSec:  win.per(func(m mark) int64 { return m.load.Reads }),
		Latency:            summarize(c.phaseHist),
		SlowConsumerCloses: all.delta(func(m mark) int64 { return m.closes1008 }),
	}
	r.CPUPerDeliveryUS = ratio(all.serverCPU()*1e6, float64(r.Received))
	r.LoadPerDeliveryUS = ratio((m2.loadCPU-m0.loadCPU)*1e6, float64(r.Received))
	r.FramesPerRead = ratio(float64(all.delta(func(m mark) int64 { return m.load.Received })), float64(all.delta(func(m mark) int64 { return m.load.Reads })))
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
