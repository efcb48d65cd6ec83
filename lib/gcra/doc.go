// Package gcra is the generic cell rate algorithm: a token bucket of burst
// tokens refilled at one per interval, kept as one int64, its theoretical
// arrival time (TAT). The bucket is full when TAT <= now. Its functions are
// pure; callers store the TAT (in a map under a lock, or an atomic) on the
// monotime clock.
package gcra
