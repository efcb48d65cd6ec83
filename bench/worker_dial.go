package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// grow dials this process's connections among global indices below target,
// at its part of the ramp rate, and returns when every new one is
// subscribed or failed.
func (w *worker) grow(target int) {
	var own []int
	for i := w.nextIdx; i < target; i++ {
		if i%w.procs == w.id {
			own = append(own, i)
		}
	}
	w.nextIdx = max(w.nextIdx, target)
	w.target.Add(int64(len(own)))
	w.dialAll(len(own), func(k int) *conn { return w.newConn(own[k]) }, w.o.Ramp/float64(w.procs), nil)
}

// dialAll connects n slots, slot(k) giving the k-th, paced to rate per
// second (0: unpaced) with at most -in-flight handshakes at a time, and
// returns when every one is subscribed or failed; done (if not nil) gets
// each outcome.
func (w *worker) dialAll(n int, slot func(k int) *conn, rate float64, done func(ok bool)) {
	sem := make(chan struct{}, w.o.InFlight)
	var pending sync.WaitGroup
	start := time.Now()
	// A few goroutines dial (each connect blocks for a loopback round
	// trip); the handshakes complete on nbio's pollers.
	forEach(n, 4, func(k int) {
		pace(start, k, rate)
		sem <- struct{}{}
		pending.Add(1)
		w.connect(slot(k), func(ok bool) {
			if done != nil {
				done(ok)
			}
			<-sem
			pending.Done()
		})
	})
	pending.Wait()
}

func (w *worker) newConn(i int) *conn {
	names := w.plan.channels(i)
	c := &conn{idx: i, w: w, sh: &w.shards[i%nShards], observer: i < w.o.Observers, chans: make([]chanStats, len(names))}
	for j, n := range names {
		c.chans[j].name = n
	}
	if len(names) > 0 {
		c.sub, _ = json.Marshal(map[string]any{"type": "subscribe", "id": "s", "data": map[string]any{"channels": names}})
	}
	w.mu.Lock()
	w.conns = append(w.conns, c)
	w.mu.Unlock()
	return c
}

// connect dials slot c and subscribes; done(ok) runs once, when the
// subscription is acknowledged or the attempt failed.
func (w *worker) connect(c *conn, done func(ok bool)) {
	att := &attempt{start: time.Now(), done: done, closed: make(chan struct{})}
	if c.att.Swap(att) != nil { // a reconnect: a new stream of seqs
		c.sh.mu.Lock()
		for j := range c.chans {
			c.chans[j].restart()
		}
		c.sh.mu.Unlock()
	}
	w.dialed.Add(1)
	w.dialer.dial(w.u, sourceIP(c.idx, w.o.SrcAddrs), c, func(l link, err error) {
		if err != nil {
			w.failed.Add(1)
			w.noteFailure(c, err)
			att.markClosed()
			att.finish(false)
			return
		}
		w.connected.Add(1)
		w.open.Add(1)
		c.link.Store(&linkBox{l})
		c.isOpen.Store(true)
		if len(c.sub) == 0 {
			w.onAck(c, 0)
			return
		}
		if err := l.writeText(c.sub); err != nil {
			w.noteFailure(c, fmt.Errorf("cannot subscribe: %w", err))
			att.finish(false)
		}
	})
}

func (w *worker) noteFailure(c *conn, err error) {
	reason := err.Error()
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		reason = "timeout"
	}
	w.tally(w.failReasons, &w.failLog, c, clip(reason, 80), 3)
}

// tally counts why in counts and describes the first maxCloseLog in log:
// the connection, its source address, why, and the connection's age in
// seconds with prec decimals.
func (w *worker) tally(counts map[string]int64, log *[]string, c *conn, why string, prec int) {
	age := time.Since(c.att.Load().start).Seconds()
	w.mu.Lock()
	counts[why]++
	if len(*log) < maxCloseLog {
		*log = append(*log, fmt.Sprintf("conn %d (from %v): %s after %.*f s", c.idx, sourceIP(c.idx, w.o.SrcAddrs), why, prec, age))
	}
	w.mu.Unlock()
}

func (w *worker) onAck(c *conn, rejected int) {
	att := c.att.Load()
	us := time.Since(att.start).Microseconds()
	w.mu.Lock()
	recordMicros(w.connHist, us)
	w.mu.Unlock()
	w.acked.Add(1)
	w.rejected.Add(int64(rejected))
	att.finish(true)
}
