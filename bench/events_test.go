package main

import "testing"

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
