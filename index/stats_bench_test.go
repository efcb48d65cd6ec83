package index

import (
	"fmt"
	"testing"
)

// countings are the settings the instrumentation benchmarks compare.
var countings = []struct {
	name string
	on   bool
}{{"off", false}, {"on", true}}

// BenchmarkLookupCounting is BenchmarkLookup/subs=100 with and without
// Config.CountLookups: the instrumentation's cost on one core.
func BenchmarkLookupCounting(b *testing.B) {
	compareCounting(b, lookupInTurn)
}

// BenchmarkLookupCountingParallel is BenchmarkLookupParallel with and without
// Config.CountLookups: the counter is the one line lookups on different
// cores would write.
func BenchmarkLookupCountingParallel(b *testing.B) {
	compareCounting(b, lookupParallel)
}

// compareCounting runs the timed loop run over 10,000 channels of 100
// members each, with Config.CountLookups off and on.
func compareCounting(b *testing.B, run func(b *testing.B, ix *benchIndex, names []string)) {
	names := benchNames(10000)
	for _, c := range countings {
		b.Run("count="+c.name, func(b *testing.B) {
			ix := NewWith[*int, struct{}](Config{CountLookups: c.on})
			load(ix, names, newSubs(100))
			run(b, ix, names)
		})
	}
}

// BenchmarkWriteSampling adds and drops a channel, the writes that take a
// shard's lock, with write hold timing off, at the default rate, and on
// every write.
func BenchmarkWriteSampling(b *testing.B) {
	for _, every := range []int{-1, DefaultWriteSampleEvery, 1} {
		b.Run(fmt.Sprintf("every=%d", every), func(b *testing.B) {
			ix := NewWith[*int, struct{}](Config{WriteSampleEvery: every})
			me := new(int)
			b.ReportAllocs()
			for b.Loop() {
				leave(ix, join(ix, "token.BTC.trade", me))
			}
		})
	}
}

// BenchmarkShardStats is the cost of reading one shard's counters, which a
// scrape does once per shard.
func BenchmarkShardStats(b *testing.B) {
	ix := New[*int, struct{}](DefaultShards)
	var st ShardStats
	for b.Loop() {
		st = ix.ShardStats(3)
	}
	sinkInt = int(st.Lookups)
}

func BenchmarkWriteCounters(b *testing.B) {
	ix := New[*int, struct{}](DefaultShards)
	var w countingWriter
	b.ReportAllocs()
	for b.Loop() {
		ix.writeCounters(&w)
	}
	sinkInt = int(w)
}

type countingWriter int

func (w *countingWriter) Write(p []byte) (int, error) {
	*w += countingWriter(len(p))
	return len(p), nil
}
