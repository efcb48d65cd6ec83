//go:build linux

package sysd

import (
	"syscall"
	"unsafe"
)

// clockMonotonic is CLOCK_MONOTONIC, the clock systemd's MONOTONIC_USEC uses.
const clockMonotonic = 1

// monotonicMicros returns CLOCK_MONOTONIC in microseconds. Go's time package
// keeps a monotonic reading but does not expose its absolute value, so this
// asks the kernel (a plain syscall: it runs once per reload, not on a hot
// path).
func monotonicMicros() (uint64, bool) {
	var ts syscall.Timespec
	_, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockMonotonic, uintptr(unsafe.Pointer(&ts)), 0)
	if errno != 0 {
		return 0, false
	}
	return uint64(ts.Sec)*1e6 + uint64(ts.Nsec)/1e3, true
}
