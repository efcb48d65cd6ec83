package chanstate

import (
	"fmt"
	"testing"

	"github.com/VictoriaMetrics/metrics"
)

func collect(h *History, after, latest uint64) []string {
	var got []string
	h.Each(after, latest, func(f, z []byte) { got = append(got, string(f)+string(z)) })
	return got
}

// TestHistoryRing: the ring keeps the last size publications, reports which
// positions it can replay from, and gives its memory back.
func TestHistoryRing(t *testing.T) {
	set := metrics.NewSet()
	b := NewBudget(1<<20, set.NewCounter("evictions"))
	h := NewHistory(3, b)
	for seq := uint64(1); seq <= 5; seq++ {
		h.Add(seq, int64(seq), []byte(fmt.Sprint("m", seq)), nil)
	}
	for _, tc := range []struct {
		after uint64
		ok    bool
	}{{5, true}, {4, true}, {2, true}, {1, false}, {0, false}, {6, false}} {
		if got := h.Holds(tc.after, 5, 0); got != tc.ok {
			t.Errorf("Holds(%d) = %v; want %v", tc.after, got, tc.ok)
		}
	}
	if got := fmt.Sprint(collect(h, 2, 5)); got != "[m3 m4 m5]" {
		t.Errorf("Each after 2 = %s", got)
	}
	if h.Holds(2, 5, 4) { // m3 is older than notBefore
		t.Error("Holds counts an entry past its ttl")
	}
	h.Expire(5) // m3 and m4 go
	if h.Holds(3, 5, 0) || !h.Holds(4, 5, 0) {
		t.Error("Expire kept the wrong entries")
	}
	if b.Bytes() == 0 {
		t.Fatal("the budget counts nothing while the ring holds an entry")
	}
	h.Expire(6)
	if b.Bytes() != 0 {
		t.Fatalf("an empty ring still holds %d bytes", b.Bytes())
	}
}

// TestHistoryBudget: past max_bytes a ring evicts its own oldest entries,
// and a publication that cannot fit is not kept, so a recovery across it
// fails instead of skipping it.
func TestHistoryBudget(t *testing.T) {
	set := metrics.NewSet()
	ev := set.NewCounter("evictions")
	b := NewBudget(3*histEntrySize+250, ev)
	h := NewHistory(3, b)
	h.Add(1, 1, make([]byte, 100), nil)
	h.Add(2, 2, make([]byte, 100), nil)
	h.Add(3, 3, make([]byte, 100), nil) // evicts 1
	if ev.Get() != 1 || h.Holds(0, 3, 0) || !h.Holds(1, 3, 0) {
		t.Fatalf("evictions %d; holds from 1: %v", ev.Get(), h.Holds(1, 3, 0))
	}
	h.Add(4, 4, make([]byte, 1000), nil) // never fits
	if h.Holds(1, 4, 0) || h.Holds(2, 4, 0) || h.Holds(3, 4, 0) {
		t.Fatal("a recovery across a publication that was not kept succeeds")
	}
	if b.Bytes() > 3*histEntrySize+250 {
		t.Fatalf("the rings hold %d bytes; the budget is %d", b.Bytes(), 3*histEntrySize+250)
	}
	h.Release()
	if b.Bytes() != 0 {
		t.Fatalf("Release left %d bytes counted", b.Bytes())
	}
}

// TestEpochs: epochs are unique within a run and tell this run's apart.
func TestEpochs(t *testing.T) {
	a, b := NewEpochs(), NewEpochs()
	e1, e2 := a.Next(), a.Next()
	if e1 == e2 || !a.ThisRun(e1) || a.ThisRun(b.Next()) || a.ThisRun("") {
		t.Fatalf("epochs %q %q; ThisRun wrong", e1, e2)
	}
}

// TestHistoryKeepsBothFrames: a compressed publication is replayed with its
// deflated frame, an uncompressed one without.
func TestHistoryKeepsBothFrames(t *testing.T) {
	set := metrics.NewSet()
	h := NewHistory(4, NewBudget(1<<20, set.NewCounter("evictions")))
	h.Add(1, 1, []byte("plain1"), []byte("z1"))
	h.Add(2, 2, []byte("plain2"), nil)
	var got []string
	h.Each(0, 2, func(p, z []byte) { got = append(got, fmt.Sprintf("%s/%s", p, z)) })
	if fmt.Sprint(got) != "[plain1/z1 plain2/]" {
		t.Fatalf("replayed %v", got)
	}
}
