package strategies

import (
	"runtime"
	"time"
)

// Meter measures a benchmark's process CPU time and the CPU time other
// processes took meanwhile. On a shared machine the wall-clock ns/op of a
// parallel benchmark says as much about the neighbours as about the code:
// cpu-ns/op (this process's CPU time per operation) does not grow when a
// neighbour takes a core, and ext-% says how much of the machine they took.
type Meter struct {
	wall time.Time
	self time.Duration
	busy time.Duration
	ok   bool
}

// StartMeter starts measuring.
func StartMeter() Meter {
	busy, ok := machineBusy()
	return Meter{wall: time.Now(), self: selfCPU(), busy: busy, ok: ok}
}

// Stop returns this process's CPU nanoseconds per operation over ops
// operations, and the share of the machine's CPU time, in percent of
// wall time × NumCPU, that other processes used; ext is -1 if unknown.
func (m Meter) Stop(ops int) (cpuNsPerOp, ext float64) {
	wall := time.Since(m.wall)
	self := selfCPU() - m.self
	cpuNsPerOp = float64(self.Nanoseconds()) / float64(max(ops, 1))
	busy, ok := machineBusy()
	if !m.ok || !ok || wall <= 0 {
		return cpuNsPerOp, -1
	}
	other := busy - m.busy - self
	ext = 100 * float64(max(other, 0)) / float64(wall) / float64(runtime.NumCPU())
	return cpuNsPerOp, min(ext, 100)
}
