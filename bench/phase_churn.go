package main

import (
	"fmt"
	"time"
)

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
		Reconnects:     sp.delta(func(m mark) int64 { return m.load.ChurnDone }),
		Failed:         sp.delta(func(m mark) int64 { return m.load.ChurnFailed }),
		Seconds:        sp.secs(),
		ConnectLatency: summarize(c.connHist),
		cores:          sp.cores(),
	}
	r.PerSec = ratio(float64(r.Reconnects), r.Seconds)
	c.res.Churn = r
	c.checkCores("churn", sp)
	return nil
}
