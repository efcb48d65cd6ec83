package monotime

import "time"

// origin is the clock's zero: a day before the process started, so that
// every reading is positive and 0 can mean "never".
var origin = time.Now().Add(-24 * time.Hour)

// Now returns the monotonic nanoseconds since origin. It costs one clock
// read (time.Since on a time with a monotonic reading).
func Now() int64 { return int64(time.Since(origin)) }

// Of returns t on the same clock: monotonic when t has a monotonic reading,
// as time.Now's do.
func Of(t time.Time) int64 { return int64(t.Sub(origin)) }
