package monotime

import (
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	a := Now()
	b := Of(time.Now())
	if a <= int64(23*time.Hour) || b < a || Of(time.Now().Add(time.Second))-b < int64(time.Second)-int64(time.Millisecond) {
		t.Fatalf("Now %d, Of(now) %d: want positive, ordered and in step with time.Now", a, b)
	}
}
