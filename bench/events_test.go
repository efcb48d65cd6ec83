package main

import (
	"reflect"
	"testing"
)

// TestSnapAfterFinal: a sample that arrives after the final snapshot (the
// coordinator samples while it waits for the finish) keeps its loss
// accounting; the storm smoke test read all zeros when it did not.
func TestSnapAfterFinal(t *testing.T) {
	c := &coordinator{
		ivHist: newHist(), phaseHist: newHist(), connHist: newHist(), obsHist: newHist(),
		latest: make([]snapshot, 1), counts: []map[string]int{{}},
	}
	for _, s := range []snapshot{
		{Event: evFinal, Acked: 5, Loss: &lossTotals{Expected: 7, Received: 7}},
		{Event: evSnap, Acked: 6},
	} {
		if err := c.handle(s); err != nil {
			t.Fatal(err)
		}
	}
	if l := c.latest[0]; l.Acked != 6 || l.Loss == nil || l.Loss.Expected != 7 || l.Loss.Received != 7 {
		t.Fatalf("latest %+v, loss %+v; want the sample's counters and the final loss", l, l.Loss)
	}
}

// TestTotal: a mark's load counters are every int64 field of the latest
// snapshots, summed; nothing else is carried.
func TestTotal(t *testing.T) {
	c := &coordinator{latest: []snapshot{
		{Worker: 1, Acked: 2, Received: 10, RedialFailed: 1, ChurnDone: 3, Err: "x", Closes: map[string]int64{"a": 1}},
		{Worker: 2, Acked: 5, Received: 20, Gaps: 4, ChurnDone: 1},
	}}
	got := c.total()
	want := snapshot{Acked: 7, Received: 30, RedialFailed: 1, ChurnDone: 4, Gaps: 4}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("total() = %+v; want %+v", got, want)
	}
}
