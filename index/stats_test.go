package index

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/VictoriaMetrics/metrics"

	"wsfan/lib/promtext"
)

// channelsInShard returns n channel names that hash to shard k of ix.
func channelsInShard[S comparable, V any](ix *Index[S, V], k, n int) []string {
	var names []string
	for i := 0; len(names) < n; i++ {
		if ch := fmt.Sprintf("token.%x.trade", i); ix.ShardOf(ch) == k {
			names = append(names, ch)
		}
	}
	return names
}

// warmShards gives every shard two channels with one member each.
func warmShards(ix *benchIndex) {
	for k := range ix.Shards() {
		for _, ch := range channelsInShard(ix, k, 2) {
			join(ix, ch, new(int))
			ix.Lookup(ch)
		}
	}
}

// driveHotShard runs concurrent writes (channels added and dropped: 4,000
// of each per writer, two writers on their own channels) and lookups
// (20,000 per reader, two readers) on channels of shard hot only, and
// leaves one member on each of 8 more of its channels.
func driveHotShard(ix *benchIndex, hot int) {
	hotNames := channelsInShard(ix, hot, 34)[2:] // past the two warmShards gave a member
	var wg sync.WaitGroup
	for w := range 2 {
		mine := hotNames[w*16 : (w+1)*16]
		wg.Go(func() { // writers
			c := new(int)
			for i := range 2000 {
				leave(ix, join(ix, mine[i%len(mine)], c))
			}
			for _, ch := range mine[:4] {
				join(ix, ch, c)
			}
		})
		wg.Go(func() { // readers
			for i := range 20000 {
				ix.Lookup(hotNames[(i+w)%len(hotNames)])
			}
		})
	}
	wg.Wait()
}

// TestShardStatsShowHotShard drives one shard and checks that its counters,
// and only its counters, moved. The comparison is of deltas over the hot
// phase, as a rate() over the metrics would be: on a loaded machine a write
// preempted under a cold shard's lock can add milliseconds of hold time
// before it.
func TestShardStatsShowHotShard(t *testing.T) {
	const hot = 5
	ix := NewWith[*int, struct{}](Config{Shards: 16, CountLookups: true})
	join(ix, "token.*.trade", new(int))
	warmShards(ix)
	before := make([]ShardStats, ix.Shards())
	for i := range before {
		before[i] = ix.ShardStats(i)
	}
	driveHotShard(ix, hot)

	delta := func(i int) ShardStats {
		a, b := before[i], ix.ShardStats(i)
		return ShardStats{
			Channels:      b.Channels,
			Subscriptions: b.Subscriptions,
			Writes:        b.Writes - a.Writes,
			WriteSamples:  b.WriteSamples - a.WriteSamples,
			Lookups:       b.Lookups - a.Lookups,
			LockWaitNanos: b.LockWaitNanos - a.LockWaitNanos,
			LockHoldNanos: b.LockHoldNanos - a.LockHoldNanos,
		}
	}
	h := delta(hot)
	t.Logf("hot shard %d: %+v", hot, h)
	near := func(samples, n, every uint64) bool { return samples*every <= n+every && n <= samples*every+every }
	if h.Writes != 2*(4000+4) || h.Lookups != 40000 || !near(h.WriteSamples, h.Writes, 8) || h.LockHoldNanos == 0 {
		t.Fatalf("hot shard %d over the hot phase: %+v; want 8008 writes (1 in 8 timed), 40000 lookups and hold time", hot, h)
	}
	for i := range ix.Shards() {
		if i == hot {
			continue
		}
		st := delta(i)
		if st.Writes != 0 || st.Lookups != 0 || st.LockHoldNanos != 0 || st.LockWaitNanos != 0 {
			t.Fatalf("cold shard %d moved during the hot phase: %+v", i, st)
		}
		if st.Channels >= h.Channels || st.Subscriptions >= h.Subscriptions {
			t.Fatalf("cold shard %d holds %d channels, %d subscriptions; the hot one %d, %d",
				i, st.Channels, st.Subscriptions, h.Channels, h.Subscriptions)
		}
	}
	if ps := ix.PatternStats(); ps.Channels != 1 || ps.Subscriptions != 1 || ps.Writes != 1 || ps.WriteSamples != 1 {
		t.Fatalf("PatternStats() = %+v; want 1 pattern, 1 subscription, 1 write", ps)
	}
}

// scrape writes set out and returns its values: family -> shard label (""
// when none) -> value.
func scrape(t *testing.T, set *metrics.Set) (map[string]map[string]float64, string) {
	t.Helper()
	var buf bytes.Buffer
	set.WritePrometheus(&buf)
	out := buf.String()
	samples, err := promtext.Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]map[string]float64{}
	for name, v := range samples {
		family, label, _ := strings.Cut(name, "{")
		if values[family] == nil {
			values[family] = map[string]float64{}
		}
		values[family][strings.TrimSuffix(strings.TrimPrefix(label, `shard="`), `"}`)] = v
	}
	return values, out
}

// TestMetricsShowHotShard is TestShardStatsShowHotShard through the metrics
// a Prometheus scrape sees: counter increases between two scrapes, and the
// gauges.
func TestMetricsShowHotShard(t *testing.T) {
	const hot = 11
	ix := NewWith[*int, struct{}](Config{Shards: 16, CountLookups: true})
	set := metrics.NewSet()
	ix.RegisterMetrics(set)
	join(ix, "token.*.trade", new(int))
	join(ix, "token.BTC.>", new(int))
	warmShards(ix)
	before, _ := scrape(t, set)
	driveHotShard(ix, hot)
	after, out := scrape(t, set)
	t.Logf("%s", out)

	hotLabel := strconv.Itoa(hot)
	for _, family := range []string{
		"wsfan_index_lock_hold_seconds",
		"wsfan_index_lock_wait_seconds",
		"wsfan_index_shard_lookups_total",
		"wsfan_index_shard_writes_total",
		"wsfan_index_shard_subscriptions",
		"wsfan_index_shard_channels",
	} {
		if len(after[family]) != 16 {
			t.Fatalf("%s has %d series; want 16", family, len(after[family]))
		}
		gauge := !strings.HasSuffix(family, "_total")
		value := func(shard string) float64 {
			if gauge {
				return after[family][shard]
			}
			return after[family][shard] - before[family][shard]
		}
		for shard := range after[family] {
			if shard == hotLabel {
				continue
			}
			if v := value(shard); (!gauge && v != 0) || (v > 0 && v >= value(hotLabel)) {
				t.Fatalf("%s: cold shard %s has %g, the hot shard %d %g", family, shard, v, hot, value(hotLabel))
			}
		}
		if family != "wsfan_index_lock_wait_seconds" && value(hotLabel) <= 0 {
			t.Fatalf("%s: the hot shard %d has %g", family, hot, value(hotLabel))
		}
	}
	f := func(family string, want float64) {
		t.Helper()
		if got, ok := after[family][""]; !ok || got != want {
			t.Fatalf("%s = %g (present: %v); want %g", family, got, ok, want)
		}
	}
	f("wsfan_index_patterns", 2)
	f("wsfan_index_pattern_subscriptions", 2)
	for _, family := range []string{
		"wsfan_index_patterns_lock_wait_seconds",
		"wsfan_index_patterns_lock_hold_seconds",
		"wsfan_index_match_cache_misses_total",
	} {
		if _, ok := after[family][""]; !ok {
			t.Fatalf("%s is missing", family)
		}
	}
}

func TestCountLookups(t *testing.T) {
	f := func(cfg Config, want uint64) {
		t.Helper()
		ix := NewWith[*int, struct{}](cfg)
		join(ix, "a", new(int))
		for range 1000 {
			ix.Lookup("a")
		}
		if st := ix.ShardStats(ix.ShardOf("a")); st.Lookups != want || st.Writes != 1 {
			t.Fatalf("%+v: ShardStats = %+v; want %d lookups, 1 write", cfg, st, want)
		}
	}
	f(Config{Shards: 4}, 0)
	f(Config{Shards: 4, CountLookups: true}, 1000)
}

func TestWriteSampling(t *testing.T) {
	f := func(every int, want uint64) {
		t.Helper()
		ix := NewWith[*int, struct{}](Config{Shards: 1, WriteSampleEvery: every})
		for i := range 512 {
			join(ix, fmt.Sprint("a", i), new(int))
		}
		if st := ix.ShardStats(0); st.Writes != 512 || st.WriteSamples != want || (want > 0) != (st.WriteHoldNanos > 0) {
			t.Fatalf("WriteSampleEvery %d: ShardStats = %+v; want 512 writes, %d timed", every, st, want)
		}
	}
	f(0, 512/DefaultWriteSampleEvery)
	f(1, 512)
	f(64, 8)
	f(-1, 0)
}

func TestConfigValidate(t *testing.T) {
	f := func(c Config, ok bool) {
		t.Helper()
		if err := c.Validate(); (err == nil) != ok {
			t.Fatalf("%+v.Validate() = %v; want ok=%v", c, err, ok)
		}
	}
	f(Config{}, true)
	f(Config{Shards: 64, WriteSampleEvery: 1, MatchCacheSize: 1, CountLookups: true}, true)
	f(Config{Shards: 3}, false)
	f(Config{Shards: 8192}, false)
	f(Config{WriteSampleEvery: 3}, false)
	f(Config{WriteSampleEvery: -1}, true)
	f(Config{MatchCacheSize: 1000}, false)
	f(Config{MatchCacheSize: -4}, false)
}
