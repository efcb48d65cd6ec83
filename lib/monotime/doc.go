// Package monotime is a process-wide monotonic clock as int64 nanoseconds,
// cheap to store in atomics and to compare. Its functions are safe for
// concurrent use.
package monotime
