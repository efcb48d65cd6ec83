package main

import (
	"sync"
	"sync/atomic"
	"time"
)

// forEach calls f(k) for every k in [0, n) from par goroutines, each
// taking the next k in turn, and returns when all calls have returned.
func forEach(n, par int, f func(k int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range par {
		wg.Go(func() {
			for {
				k := int(next.Add(1) - 1)
				if k >= n {
					return
				}
				f(k)
			}
		})
	}
	wg.Wait()
}

// pace sleeps until the k-th event of a series that began at start is
// due, at rate events per second (0: unpaced, no wait).
func pace(start time.Time, k int, rate float64) {
	if rate <= 0 {
		return
	}
	if d := time.Until(start.Add(time.Duration(float64(k) / rate * float64(time.Second)))); d > 0 {
		time.Sleep(d)
	}
}
