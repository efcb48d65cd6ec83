package index

import (
	"fmt"
	"io"

	"github.com/VictoriaMetrics/metrics"
)

// RegisterMetrics registers the index's metrics on set, which the caller
// owns and exposes; the index uses no global registry. Per shard N:
//
//	wsfan_index_lock_wait_seconds{shard="N"}         counter, ShardStats.LockWaitNanos
//	wsfan_index_lock_hold_seconds{shard="N"}         counter, ShardStats.LockHoldNanos
//	wsfan_index_shard_lookups_total{shard="N"}       counter, ShardStats.Lookups
//	wsfan_index_shard_writes_total{shard="N"}        counter, ShardStats.Writes
//	wsfan_index_shard_subscriptions{shard="N"}       gauge
//	wsfan_index_shard_channels{shard="N"}            gauge
//
// and for the pattern side:
//
//	wsfan_index_patterns                              gauge, Patterns()
//	wsfan_index_pattern_subscriptions                 gauge
//	wsfan_index_patterns_lock_wait_seconds            counter
//	wsfan_index_patterns_lock_hold_seconds            counter
//	wsfan_index_match_cache_misses_total              counter
//
// Every value is read from the index's own counters when set is written out,
// so registering costs the publish path nothing. Call it once per set: a
// second call panics on the duplicate gauges, as metrics.Set does.
func (ix *Index[S, V]) RegisterMetrics(set *metrics.Set) {
	for i := range ix.shards {
		c := &ix.shards[i].counts
		set.NewGauge(fmt.Sprintf(`wsfan_index_shard_subscriptions{shard="%d"}`, i),
			func() float64 { return float64(c.subscriptions.Load()) })
		set.NewGauge(fmt.Sprintf(`wsfan_index_shard_channels{shard="%d"}`, i),
			func() float64 { return float64(c.busy.Load()) })
	}
	set.NewGauge(`wsfan_index_patterns`, func() float64 { return float64(ix.trie.count.Load()) })
	set.NewGauge(`wsfan_index_pattern_subscriptions`, func() float64 { return float64(ix.trie.counts.subscriptions.Load()) })
	// metrics.Set has no callback counter: the counters are written at
	// scrape time, with their metadata once per family when enabled.
	set.RegisterMetricsWriter(ix.writeCounters)
}

// writeCounters writes the cumulative counters in Prometheus text format.
func (ix *Index[S, V]) writeCounters(w io.Writer) {
	stats := make([]ShardStats, len(ix.shards))
	for i := range stats {
		stats[i] = ix.ShardStats(i)
	}
	family := func(name string, value func(st *ShardStats) float64) {
		metrics.WriteMetadataIfNeeded(w, name, "counter")
		for i := range stats {
			fmt.Fprintf(w, "%s{shard=\"%d\"} %g\n", name, i, value(&stats[i]))
		}
	}
	family("wsfan_index_lock_wait_seconds", func(st *ShardStats) float64 { return seconds(st.LockWaitNanos) })
	family("wsfan_index_lock_hold_seconds", func(st *ShardStats) float64 { return seconds(st.LockHoldNanos) })
	family("wsfan_index_shard_lookups_total", func(st *ShardStats) float64 { return float64(st.Lookups) })
	family("wsfan_index_shard_writes_total", func(st *ShardStats) float64 { return float64(st.Writes) })

	ps := ix.PatternStats()
	metrics.WriteCounterFloat64(w, "wsfan_index_patterns_lock_wait_seconds", seconds(ps.LockWaitNanos))
	metrics.WriteCounterFloat64(w, "wsfan_index_patterns_lock_hold_seconds", seconds(ps.LockHoldNanos))
	metrics.WriteCounterUint64(w, "wsfan_index_match_cache_misses_total", ps.Lookups)
}

func seconds(nanos uint64) float64 {
	return float64(nanos) / 1e9
}
