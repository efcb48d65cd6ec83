package main

import (
	"fmt"
	"time"
)

// gaugePoll is how often the storm scrapes the server's gauges while it
// waits for them to settle. Each scrape costs the server CPU (wsfan:
// ~1.5 ms here), which the net figures subtract.
const gaugePoll = 50 * time.Millisecond

// scrapeProbes is how many scrapes measure a scrape's cost.
const scrapeProbes = 10

// planGauges returns the subscriptions and distinct channels of
// connections 0..conns-1.
func (p *plan) planGauges(conns int) (subs, chans int) {
	m := p.subscribers(conns)
	for _, n := range m {
		subs += n
	}
	return subs, len(m)
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
