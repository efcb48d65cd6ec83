package index

import (
	"fmt"

	"wsfan/lib/defaults"
)

// DefaultWriteSampleEvery is how many writes per shard share one timed hold
// when Config.WriteSampleEvery is 0.
const DefaultWriteSampleEvery = 8 // power of two

// maxMatchCacheSize is the largest match cache Config accepts.
const maxMatchCacheSize = 1 << 20 // power of two

// Config holds the index's settings. The zero value means every default.
type Config struct {
	// Shards is the number of stripes for concrete channels: a power of two
	// in [1, 4096]. 0 means DefaultShards (16). docs/BENCHMARKS.md
	// has the sweep that picked the default.
	Shards int

	// CountLookups makes every Lookup count itself in its shard's
	// ShardStats.Lookups and wsfan_index_shard_lookups_total, which show
	// the shards that publications hit. Off by default: the count is the
	// only shared memory a Lookup would write, and it costs about 2 ns of
	// a 20 ns lookup on one core and more as cores contend for the counter
	// (docs/BENCHMARKS.md). Reads take no lock, so without it the
	// contention metrics are the writers'.
	CountLookups bool

	// WriteSampleEvery sets how often a write to a shard (a channel added
	// or dropped) times its write lock's hold. A power of two; 0 means
	// DefaultWriteSampleEvery (8); a negative value turns write hold timing
	// off. Timing a hold costs two clock reads, about 50 ns on the dev
	// machine.
	WriteSampleEvery int

	// MatchCacheSize is the number of channels the pattern match cache
	// holds: a power of two in [1, 1<<20], at least 4 in effect (one set of
	// four ways). 0 means DefaultMatchCacheSize. Each slot costs 8 bytes,
	// plus its cached answer once used (about 150 bytes with one matching
	// pattern). Size it above the number of channels published to while
	// patterns are subscribed: the tail of a larger set misses and
	// allocates (BenchmarkMatchCacheSize).
	MatchCacheSize int
}

// Validate reports the first setting of c that New would reject.
func (c Config) Validate() error {
	if n := c.Shards; n != 0 && !powerOfTwoIn(n, maxShards) {
		return fmt.Errorf("index: shard count %d is not a power of two in [1, %d]", n, maxShards)
	}
	if n := c.WriteSampleEvery; n > 0 && !powerOfTwoIn(n, 1<<30) {
		return fmt.Errorf("index: write sample interval %d is not a power of two", n)
	}
	if n := c.MatchCacheSize; n != 0 && !powerOfTwoIn(n, maxMatchCacheSize) {
		return fmt.Errorf("index: match cache size %d is not a power of two in [1, %d]", n, maxMatchCacheSize)
	}
	return nil
}

func (c Config) withDefaults() Config {
	defaults.Set(&c.Shards, DefaultShards)
	defaults.Set(&c.WriteSampleEvery, DefaultWriteSampleEvery)
	defaults.Set(&c.MatchCacheSize, DefaultMatchCacheSize)
	return c
}

func powerOfTwoIn(n, limit int) bool {
	return n >= 1 && n <= limit && n&(n-1) == 0
}
