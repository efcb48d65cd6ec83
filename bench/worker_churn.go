package main

import (
	"sync"
	"sync/atomic"
	"time"
)

// churn performs count reconnects over the open slots, par at a time,
// paced to rate per second (0: unpaced).
func (w *worker) churn(count int, rate float64) {
	w.mu.Lock()
	slots := make([]*conn, 0, len(w.conns))
	for _, c := range w.conns {
		if c.isOpen.Load() {
			slots = append(slots, c)
		}
	}
	w.mu.Unlock()
	if len(slots) == 0 || count == 0 {
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range min(w.o.ChurnPar, len(slots)) {
		wg.Go(func() {
			for {
				k := int(next.Add(1) - 1)
				if k >= count {
					return
				}
				if rate > 0 {
					if d := time.Until(start.Add(time.Duration(float64(k) / rate * float64(time.Second)))); d > 0 {
						time.Sleep(d)
					}
				}
				c := slots[k%len(slots)]
				c.churnMu.Lock()
				w.closeConn(c)
				c.closing.Store(false)
				ok := make(chan bool, 1)
				w.connect(c, func(b bool) { ok <- b })
				if <-ok {
					w.churnDone.Add(1)
				} else {
					w.churnFailed.Add(1)
				}
				c.churnMu.Unlock()
			}
		})
	}
	wg.Wait()
}
