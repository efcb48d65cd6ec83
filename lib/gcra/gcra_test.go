package gcra

import (
	"testing"
	"time"
)

func TestTake(t *testing.T) {
	r := New(10, 3) // one token per 100 ms, 3 at once
	if r.Interval != int64(100*time.Millisecond) || r.Tol != 3*r.Interval {
		t.Fatalf("New(10, 3) = %+v", r)
	}
	var tat int64
	now := int64(time.Hour)
	for i := 0; i < 3; i++ {
		var ok bool
		if tat, ok = r.Take(tat, now); !ok {
			t.Fatalf("token %d of the burst refused", i)
		}
	}
	if next, ok := r.Take(tat, now); ok || next != tat {
		t.Fatalf("a fourth token at once: %v, tat %d -> %d", ok, tat, next)
	}
	if _, ok := r.Take(tat, now+r.Interval); !ok {
		t.Fatalf("no token after one interval")
	}
}
