package main

import (
	"errors"
	"fmt"
	"reflect"
	"time"
)

// handle takes in one snapshot.
func (c *coordinator) handle(s snapshot) error {
	if s.Event == evError {
		return errors.New(s.Err)
	}
	if s.Worker < 0 || s.Worker >= len(c.latest) {
		return fmt.Errorf("snapshot from unknown load process %d", s.Worker)
	}
	if err := mergeEncoded(c.ivHist, s.Lat); err != nil {
		return err
	}
	if err := mergeEncoded(c.phaseHist, s.Lat); err != nil {
		return err
	}
	if err := mergeEncoded(c.connHist, s.Conn); err != nil {
		return err
	}
	if err := mergeEncoded(c.obsHist, s.Obs); err != nil {
		return err
	}
	s.Lat, s.Conn, s.Obs = nil, nil, nil
	if s.Loss == nil {
		// Only the final snapshot carries the loss accounting; a sample
		// asked for around the finish may arrive after it and must not
		// drop it.
		s.Loss = c.latest[s.Worker].Loss
	}
	c.latest[s.Worker] = s
	c.counts[s.Worker][s.Event]++
	if c.bar != nil {
		_ = c.bar.Set64(c.sum(func(s *snapshot) int64 { return s.Acked + s.Failed }) - c.barBase)
	}
	return nil
}

// total sums the latest snapshots' counters: every int64 field, added
// field by field; the other fields stay zero.
func (c *coordinator) total() snapshot {
	var t snapshot
	tv := reflect.ValueOf(&t).Elem()
	for i := range c.latest {
		sv := reflect.ValueOf(&c.latest[i]).Elem()
		for f := range tv.NumField() {
			if tf := tv.Field(f); tf.Kind() == reflect.Int64 {
				tf.SetInt(tf.Int() + sv.Field(f).Int())
			}
		}
	}
	return t
}

// sum adds a field over the latest snapshots.
func (c *coordinator) sum(f func(*snapshot) int64) int64 {
	var n int64
	for i := range c.latest {
		n += f(&c.latest[i])
	}
	return n
}

// allSaw reports whether every load process sent event at least n times.
func (c *coordinator) allSaw(event string, n int) bool {
	for _, m := range c.counts {
		if m[event] < n {
			return false
		}
	}
	return true
}

// wait handles events and samples every interval until done() holds or
// timeout passes; it returns whether done() held.
func (c *coordinator) wait(done func() bool, timeout time.Duration) (bool, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	next := c.last.at.Add(c.o.Interval)
	var barTick <-chan time.Time // refreshes the progress bar between samples
	if c.bar != nil {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		barTick = t.C
	}
	for {
		if done != nil && done() {
			return true, nil
		}
		tick := time.NewTimer(time.Until(next))
		select {
		case s := <-c.events:
			tick.Stop()
			if err := c.handle(s); err != nil {
				return false, err
			}
		case <-tick.C:
			if _, err := c.sample(); err != nil {
				return false, err
			}
			next = c.last.at.Add(c.o.Interval)
		case <-barTick:
			tick.Stop()
			if err := c.refresh(); err != nil {
				return false, err
			}
		case <-deadline.C:
			tick.Stop()
			return false, nil
		case <-c.ctx.Done():
			tick.Stop()
			return false, fmt.Errorf("run stopped: %w", c.ctx.Err())
		}
		if !c.tgt.alive() {
			return false, fmt.Errorf("the server exited:\n%s", c.tgt.logTail())
		}
	}
}

// refresh asks every load process for a snapshot and waits for them all.
func (c *coordinator) refresh() error {
	want := make([]int, len(c.workers))
	for i := range want {
		want[i] = c.counts[i][evSnap] + 1
	}
	c.send(command{Op: "snap"})
	timeout := time.After(30 * time.Second)
	for {
		ok := true
		for i, n := range want {
			if c.counts[i][evSnap] < n {
				ok = false
			}
		}
		if ok {
			return nil
		}
		select {
		case s := <-c.events:
			if err := c.handle(s); err != nil {
				return err
			}
		case <-timeout:
			return errors.New("load processes did not answer a snapshot within 30 s")
		}
	}
}
