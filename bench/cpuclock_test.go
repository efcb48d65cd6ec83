//go:build linux

package main

import (
	"os"
	"testing"
	"time"
)

func TestCPUClock(t *testing.T) {
	pid := os.Getpid()
	c0 := cpuClock(pid)
	if c0 < 0 {
		t.Skip("the kernel refuses to read a process CPU clock")
	}
	// Burn some CPU, then the clock must have moved by about as much as
	// /proc's ticks say.
	for start := time.Now(); time.Since(start) < 100*time.Millisecond; {
	}
	c1 := cpuClock(pid)
	s, err := readProc(pid)
	if err != nil {
		t.Fatal(err)
	}
	if c1-c0 < 0.05 {
		t.Fatalf("the CPU clock moved %.3f s over 100 ms of spinning", c1-c0)
	}
	if d := s.CPUClock - s.CPUSeconds; d < -0.03 || d > 0.1 {
		t.Fatalf("CPU clock %.3f s vs /proc ticks %.3f s", s.CPUClock, s.CPUSeconds)
	}
	if got := cpuClock(1<<22 + 1); got != -1 { // above PID_MAX_LIMIT
		t.Fatalf("cpuClock of no process = %v; want -1", got)
	}
}
