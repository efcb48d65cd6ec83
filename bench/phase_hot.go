package main

import "fmt"

// Criteria of the hot scenario: a step keeps up while the clients receive
// at least keepUpRatio of the deliveries its publications owe, p99 stays
// under keepUpP99, and no client is closed as a slow consumer.
const (
	keepUpRatio = 0.9
	keepUpP99   = 1000.0 // ms
)

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
			DeliveredPerSec:    sp.per(func(m mark) int64 { return m.load.Received }),
			cores:              sp.cores(),
			Latency:            summarize(c.phaseHist),
			SlowConsumerCloses: sp.delta(func(m mark) int64 { return m.closes1008 }),
		}
		st.Ratio = ratio(st.DeliveredPerSec, st.ExpectedPerSec)
		st.WrittenPerSec = sp.writtenPerSec(span{first, m1}.meanFrame())
		if w := sp.serverWrites(); w >= 0 {
			st.ServerWritesPerSec = float64(w) / sp.secs()
			st.DeliveriesPerWrite = ratio(float64(sp.delta(func(m mark) int64 { return m.load.Received })), float64(w))
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
	m1, m2, err := c.endPublishing(first)
	if err != nil {
		return err
	}
	h.Drain = span{m1, m2}.secs()
	if !h.Saturated {
		c.note("hot: every step kept up; raise -hot-steps or -rate to find the saturation point")
	}
	return nil
}
