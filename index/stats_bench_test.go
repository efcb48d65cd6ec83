package index

import (
	"sync/atomic"
	"testing"
)

// samplings are the read-sampling settings the instrumentation benchmarks
// compare: off (Lookup touches no counter), the default, and every read.
var samplings = []struct {
	name  string
	every int
}{{"off", -1}, {"64", 64}, {"1", 1}}

// BenchmarkLookupSampling is BenchmarkLookup/subs=100 with read sampling
// off, at the default rate, and on every read: the instrumentation's cost
// on one core.
func BenchmarkLookupSampling(b *testing.B) {
	names := benchNames(10000)
	for _, sm := range samplings {
		b.Run("sample="+sm.name, func(b *testing.B) {
			ix := NewWith[*int](Config{ReadSampleEvery: sm.every})
			load(ix, names, newSubs(100))
			b.ReportAllocs()
			n, i := 0, 0
			for b.Loop() {
				n += ix.Lookup(names[i]).Len()
				if i++; i == len(names) {
					i = 0
				}
			}
			sinkInt = n
		})
	}
}

// BenchmarkLookupSamplingParallel is BenchmarkLookupParallel with the same
// sampling settings: the counter shares the shard lock's cache line, which
// readers on other cores also write.
func BenchmarkLookupSamplingParallel(b *testing.B) {
	names := benchNames(10000)
	for _, sm := range samplings {
		b.Run("sample="+sm.name, func(b *testing.B) {
			ix := NewWith[*int](Config{ReadSampleEvery: sm.every})
			load(ix, names, newSubs(100))
			var start, total atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := int(start.Add(1297)) % len(names)
				n := 0
				for pb.Next() {
					n += ix.Lookup(names[i]).Len()
					if i++; i == len(names) {
						i = 0
					}
				}
				total.Add(int64(n))
			})
			sinkInt = int(total.Load())
		})
	}
}

// BenchmarkShardStats is the cost of reading one shard's counters, which a
// scrape does once per shard.
func BenchmarkShardStats(b *testing.B) {
	ix := New[*int](DefaultShards)
	var st ShardStats
	for b.Loop() {
		st = ix.ShardStats(3)
	}
	sinkInt = int(st.Lookups)
}

func BenchmarkWriteCounters(b *testing.B) {
	ix := New[*int](DefaultShards)
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
