package main

import (
	"time"
)

// churn performs count reconnects over the open slots, par at a time,
// paced to rate per second (0: unpaced).
func (w *worker) churn(count int, rate float64) {
	slots := w.slots(func(c *conn) bool { return c.isOpen.Load() })
	if len(slots) == 0 || count == 0 {
		return
	}
	start := time.Now()
	forEach(count, min(w.o.ChurnPar, len(slots)), func(k int) {
		pace(start, k, rate)
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
	})
}
