//go:build !linux

package main

// cpuClock is Linux-only; elsewhere CPU time comes from /proc, if any.
func cpuClock(int) float64 { return -1 }
