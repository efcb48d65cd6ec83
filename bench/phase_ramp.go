package main

import (
	"fmt"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
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
		c.barBase = m0.load.Acked + m0.load.Failed
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
		Connected:      sp.delta(func(m mark) int64 { return m.load.Acked }),
		Failed:         sp.delta(func(m mark) int64 { return m.load.Failed }),
		Seconds:        sp.secs(),
		ConnectLatency: summarize(c.connHist),
		cores:          sp.cores(),
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
	st.Open = m2.load.Open
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
