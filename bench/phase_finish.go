package main

import (
	"fmt"
	"time"
)

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
