package main

import "testing"

func TestChanStatsObserve(t *testing.T) {
	f := func(seqs []uint64, recv, gaps, dups uint64) {
		t.Helper()
		var c chanStats
		for _, s := range seqs {
			c.observe(s)
		}
		if c.recv != recv || c.gaps != gaps || c.dups != dups {
			t.Fatalf("%v: recv %d gaps %d dups %d; want %d %d %d", seqs, c.recv, c.gaps, c.dups, recv, gaps, dups)
		}
	}
	f(nil, 0, 0, 0)
	f([]uint64{1, 2, 3, 4}, 4, 0, 0)
	f([]uint64{1043, 1044, 1045}, 3, 0, 0) // a running server's channel starts anywhere
	f([]uint64{1, 2, 5, 6}, 4, 2, 0)       // 3 and 4 lost
	f([]uint64{1, 3, 5, 7}, 4, 3, 0)
	f([]uint64{1, 2, 2, 3}, 4, 0, 1) // duplicate
	f([]uint64{1, 3, 2, 4}, 4, 1, 1) // reorder: a gap, then a step back
	f([]uint64{10, 11, 20}, 3, 8, 0)
}

func TestLossTotals(t *testing.T) {
	mk := func(name string, seqs ...uint64) chanStats {
		c := chanStats{name: name}
		for _, s := range seqs {
			c.observe(s)
		}
		return c
	}
	accepted := map[string]uint64{"a": 4, "b": 2, "c": 0}
	var tot lossTotals
	// Connection 1: everything.
	tot.addConn([]chanStats{mk("a", 1, 2, 3, 4), mk("b", 1, 2)}, accepted)
	// Connection 2: lost the last message of a (no gap visible) and one
	// in the middle of b... b had only two: lost seq 1, first seen is 2.
	tot.addConn([]chanStats{mk("a", 1, 2, 3), mk("b", 2)}, accepted)
	// Connection 3: a gap in a.
	tot.addConn([]chanStats{mk("a", 1, 2, 4)}, accepted)
	// Connection 4: an extra message on c (another publisher).
	tot.addConn([]chanStats{mk("c", 7)}, accepted)

	want := lossTotals{
		Expected:   4 + 2 + 4 + 2 + 4 + 0,
		Received:   4 + 2 + 3 + 1 + 3 + 1,
		Missing:    0 + 0 + 1 + 1 + 1 + 0,
		Extra:      1,
		Gaps:       1,
		Dups:       0,
		LossyConns: 2,
	}
	if tot != want {
		t.Fatalf("totals %+v; want %+v", tot, want)
	}
	var sum lossTotals
	sum.add(tot)
	sum.add(tot)
	if sum.Missing != 2*want.Missing || sum.LossyConns != 2*want.LossyConns {
		t.Fatalf("add: %+v", sum)
	}
}
