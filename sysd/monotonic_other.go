//go:build !linux

package sysd

// monotonicMicros reports false: systemd runs only on Linux, and Reloading
// then sends RELOADING=1 alone.
func monotonicMicros() (uint64, bool) { return 0, false }
