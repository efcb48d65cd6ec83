package main

import (
	"testing"
	"time"
)

func TestChanStatsObserve(t *testing.T) {
	f := func(seqs []uint64, recv, gaps, dups uint64) {
		t.Helper()
		var c chanStats
		for _, s := range seqs {
			c.observe(s, 0, -1, 0)
		}
		if c.recv != recv || c.gaps != gaps || c.dups != dups || c.unexplained != 0 || c.covered != recv {
			t.Fatalf("%v: recv %d gaps %d dups %d unexplained %d covered %d; want %d %d %d 0 %d", seqs, c.recv, c.gaps, c.dups, c.unexplained, c.covered, recv, gaps, dups, recv)
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

// msgs is a stream of (seq, conflated) pairs.
type msgs [][2]uint64

func TestChanStatsConflated(t *testing.T) {
	f := func(in msgs, covered, conflated, gaps, dups, unexplained uint64) {
		t.Helper()
		var c chanStats
		for _, m := range in {
			c.observe(m[0], m[1], -1, 0)
		}
		if c.covered != covered || c.conflated != conflated || c.gaps != gaps || c.dups != dups || c.unexplained != unexplained {
			t.Fatalf("%v: covered %d conflated %d gaps %d dups %d unexplained %d; want %d %d %d %d %d",
				in, c.covered, c.conflated, c.gaps, c.dups, c.unexplained, covered, conflated, gaps, dups, unexplained)
		}
	}
	// Leading edge, then trailing edges that replaced 9 each: seq ==
	// previous + 1 + conflated, no gap.
	f(msgs{{1, 0}, {11, 9}, {21, 9}, {22, 0}}, 22, 18, 0, 0, 0)
	// A step of 1 + conflated is no gap; one longer is, by what it lacks.
	f(msgs{{1, 0}, {11, 9}, {25, 9}}, 21, 18, 4, 0, 0)
	// A step shorter than 1 + conflated: the count claims more than was
	// skipped.
	f(msgs{{1, 0}, {5, 9}}, 11, 9, 0, 0, 1)
	// A step back is a duplicate, whatever it claims.
	f(msgs{{1, 0}, {11, 9}, {11, 9}}, 21, 18, 0, 1, 0)
	// The first message is not judged; its conflated count is covered.
	f(msgs{{40, 3}, {41, 0}}, 5, 3, 0, 0, 0)
	// A new connection starts a new stream.
	var c chanStats
	c.observe(5, 0, -1, 0)
	c.restart()
	c.observe(50, 0, -1, 0)
	if c.gaps != 0 || c.dups != 0 {
		t.Fatalf("after restart: gaps %d dups %d", c.gaps, c.dups)
	}
}

func TestChanStatsPerSecond(t *testing.T) {
	var c chanStats
	at := func(ms int64) int64 { return 1_764_000_000*int64(time.Second) + ms*int64(time.Millisecond) }
	seq := uint64(0)
	recv := func(ms int64, value int64) {
		seq++
		c.observe(seq, 0, value, at(ms))
	}
	// 10 in the first second, 3 in the next, then 12 at once.
	for i := range int64(10) {
		recv(i*100, i)
	}
	for i := range int64(3) {
		recv(1000+i*100, 100+i)
	}
	if c.maxPerSec != 10 || c.lastValue != 102 {
		t.Fatalf("max per second %d, last value %d", c.maxPerSec, c.lastValue)
	}
	for i := range int64(12) {
		recv(5000+i, 200+i)
	}
	if c.maxPerSec != 12 || c.lastValue != 211 {
		t.Fatalf("max per second %d, last value %d", c.maxPerSec, c.lastValue)
	}
}

func TestMatchPattern(t *testing.T) {
	// Each pattern with channels it matches and channels it does not.
	for _, c := range []struct {
		pattern     string
		match, miss []string
	}{
		{"token.T0.trade", []string{"token.T0.trade"}, []string{"token.T1.trade"}},
		{"token.*.trade", []string{"token.T0.trade"}, []string{"token.T0.book"}},
		{"token.*", nil, []string{"token.T0.trade"}},
		{"token.>", []string{"token.T0.trade", "token.T0"}, []string{"token"}},
		{">", []string{"global"}, nil},
		{"*", []string{"global"}, []string{"a.b"}},
		{"a.b.c", nil, []string{"a.b"}},
		{"a.b", nil, []string{"a.b.c"}},
	} {
		for _, ch := range c.match {
			eq(t, matchPattern(c.pattern, ch), true, "matchPattern(%q, %q)", c.pattern, ch)
		}
		for _, ch := range c.miss {
			eq(t, matchPattern(c.pattern, ch), false, "matchPattern(%q, %q)", c.pattern, ch)
		}
	}
}

func TestNewConflation(t *testing.T) {
	o := defaults()
	if c := newConflation(o); c.limit != 0 || c.conflated("token.T0.trade") {
		t.Fatalf("without -conflate: %+v", c)
	}
	o.Conflate = []string{"token.*.ticker"}
	if c := newConflation(o); c.limit != 11 || !c.conflated("token.T0.ticker") || c.conflated("token.T0.trade") {
		t.Fatalf("default interval: %+v", c) // 100ms: 10 per second, +1
	}
	o.ConflateInterval = 30 * time.Millisecond
	if c := newConflation(o); c.limit != 35 {
		t.Fatalf("30ms: limit %d", c.limit) // ceil(33.3) + 1
	}
}

func TestLossTotals(t *testing.T) {
	mk := func(name string, seqs ...uint64) chanStats {
		c := chanStats{name: name}
		for _, s := range seqs {
			c.observe(s, 0, -1, 0)
		}
		return c
	}
	accepted := map[string]uint64{"a": 4, "b": 2, "c": 0}
	var tot lossTotals
	none := conflation{}
	// Connection 1: everything.
	tot.addConn([]chanStats{mk("a", 1, 2, 3, 4), mk("b", 1, 2)}, accepted, nil, none)
	// Connection 2: lost the last message of a (no gap visible) and one
	// in the middle of b... b had only two: lost seq 1, first seen is 2.
	tot.addConn([]chanStats{mk("a", 1, 2, 3), mk("b", 2)}, accepted, nil, none)
	// Connection 3: a gap in a.
	tot.addConn([]chanStats{mk("a", 1, 2, 4)}, accepted, nil, none)
	// Connection 4: an extra message on c (another publisher).
	tot.addConn([]chanStats{mk("c", 7)}, accepted, nil, none)

	want := lossTotals{
		Expected:   4 + 2 + 4 + 2 + 4 + 0,
		Received:   4 + 2 + 3 + 1 + 3 + 1,
		Covered:    4 + 2 + 3 + 1 + 3 + 1,
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

// TestLossTotalsConflated checks the ticker's rules on subscribers of one
// conflated channel of 30 publications (values 1..30, the last is 30).
func TestLossTotalsConflated(t *testing.T) {
	conf := conflation{patterns: []string{"token.*.ticker"}, limit: 11}
	accepted := map[string]uint64{"token.T0.ticker": 30}
	last := map[string]int64{"token.T0.ticker": 30}
	sub := func(second int64, in ...[3]int64) chanStats { // (seq, conflated, value)
		c := chanStats{name: "token.T0.ticker"}
		for i, m := range in {
			c.observe(uint64(m[0]), uint64(m[1]), m[2], second*int64(time.Second)+int64(i))
		}
		return c
	}
	var tot lossTotals
	// Good: leading edge, trailing edges, the last value delivered.
	tot.addConn([]chanStats{sub(0, [3]int64{1, 0, 1}, [3]int64{15, 13, 15}, [3]int64{30, 14, 30})}, accepted, last, conf)
	// Stale: the last publication never arrived (missing 5, last value 25).
	tot.addConn([]chanStats{sub(0, [3]int64{1, 0, 1}, [3]int64{25, 23, 25})}, accepted, last, conf)
	// A step conflated does not explain: 1 -> 20 claims 5 replaced, 13
	// publications are gone.
	tot.addConn([]chanStats{sub(0, [3]int64{1, 0, 1}, [3]int64{20, 5, 20}, [3]int64{30, 9, 30})}, accepted, last, conf)
	// Too many in one second: 13 deliveries, the last replacing 17.
	many := [][3]int64{}
	for i := int64(1); i <= 12; i++ {
		many = append(many, [3]int64{i, 0, i})
	}
	many = append(many, [3]int64{30, 17, 30})
	tot.addConn([]chanStats{sub(7, many...)}, accepted, last, conf)

	if tot.Expected != 120 || tot.Received != 3+2+3+13 {
		t.Fatalf("expected %d received %d", tot.Expected, tot.Received)
	}
	if tot.Missing != 5+13 || tot.Gaps != 13 || tot.Unexplained != 0 || tot.Dups != 0 {
		t.Fatalf("missing %d gaps %d unexplained %d dups %d", tot.Missing, tot.Gaps, tot.Unexplained, tot.Dups)
	}
	if tot.LastChecked != 4 || tot.LastMismatch != 1 {
		t.Fatalf("last value: checked %d, mismatched %d", tot.LastChecked, tot.LastMismatch)
	}
	if tot.MaxPerSec != 13 || tot.OverLimit != 1 || tot.LimitPerSec != 11 {
		t.Fatalf("rate: max %d over %d limit %d", tot.MaxPerSec, tot.OverLimit, tot.LimitPerSec)
	}
	if tot.Conflated != 13+14+23+5+9+17 || tot.LossyConns != 2 {
		t.Fatalf("conflated %d lossy %d", tot.Conflated, tot.LossyConns)
	}

	var over lossTotals
	overclaim := sub(0, [3]int64{1, 0, 1}, [3]int64{10, 20, 10})
	over.addConn([]chanStats{overclaim}, map[string]uint64{"token.T0.ticker": 10}, nil, conf)
	if over.Unexplained != 1 || over.LossyConns != 1 || over.Extra != 12 {
		t.Fatalf("overclaim: %+v", over)
	}
}
