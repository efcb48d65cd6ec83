package defaults

import (
	"testing"
	"time"
)

func TestSet(t *testing.T) {
	s, n, d := "", 7, time.Duration(0)
	Set(&s, "x")
	Set(&n, 9)
	Set(&d, time.Second)
	if s != "x" || n != 7 || d != time.Second {
		t.Fatalf("Set: %q %d %v; want x 7 1s", s, n, d)
	}
}
