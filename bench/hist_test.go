package main

import (
	"math"
	"testing"
)

func TestPercentilesFromHistogram(t *testing.T) {
	h := newHist()
	// 1..100,000 µs once each: p50 = 50 ms, p99 = 99 ms, max = 100 ms.
	for v := int64(1); v <= 100_000; v++ {
		recordMicros(h, v)
	}
	l := summarize(h)
	f := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want)/want > 0.002 { // 3 significant digits
			t.Fatalf("%s = %v ms; want %v ms", name, got, want)
		}
	}
	f("p50", l.P50, 50)
	f("p90", l.P90, 90)
	f("p99", l.P99, 99)
	f("p99.9", l.P999, 99.9)
	f("max", l.Max, 100)
	f("mean", l.Mean, 50)
	if l.Count != 100_000 {
		t.Fatalf("count %d", l.Count)
	}
}

func TestHistogramTail(t *testing.T) {
	h := newHist()
	// 999 fast deliveries and one slow one: p99 stays fast, p99.9 and max
	// see the slow one.
	for range 999 {
		recordMicros(h, 1000)
	}
	recordMicros(h, 2_000_000)
	l := summarize(h)
	if l.P99 > 1.01 || l.P50 > 1.01 {
		t.Fatalf("p50 %v p99 %v; want about 1 ms", l.P50, l.P99)
	}
	if l.P999 < 1.01 && l.Max < 1999 {
		t.Fatalf("p99.9 %v max %v; want the 2 s outlier in the max", l.P999, l.Max)
	}
	// Out of range values are clamped, not lost.
	recordMicros(h, -5)
	recordMicros(h, histHighest*10)
	if h.TotalCount() != 1002 {
		t.Fatalf("count %d after clamped records; want 1002", h.TotalCount())
	}
	if summarize(newHist()) != (latency{}) {
		t.Fatal("an empty histogram should summarize to zeros")
	}
}

func TestHistogramEncodeMerge(t *testing.T) {
	a, b := newHist(), newHist()
	for v := int64(1); v <= 1000; v++ {
		recordMicros(a, v)
		recordMicros(b, v+1000)
	}
	sum := newHist()
	if err := mergeEncoded(sum, encodeHist(a)); err != nil {
		t.Fatal(err)
	}
	if err := mergeEncoded(sum, encodeHist(b)); err != nil {
		t.Fatal(err)
	}
	if err := mergeEncoded(sum, encodeHist(newHist())); err != nil { // empty: nil, a no-op
		t.Fatal(err)
	}
	if sum.TotalCount() != 2000 {
		t.Fatalf("merged count %d; want 2000", sum.TotalCount())
	}
	if p50 := summarize(sum).P50; math.Abs(p50-1.0) > 0.002 {
		t.Fatalf("merged p50 %v ms; want 1 ms", p50)
	}
	if err := mergeEncoded(sum, []byte("not a histogram")); err == nil {
		t.Fatal("garbage decoded without an error")
	}
}
