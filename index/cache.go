package index

import (
	"math/bits"
	"sync/atomic"
)

// DefaultMatchCacheSize is the number of channels whose pattern matches the
// match cache holds when Config.MatchCacheSize is 0. It is sized for the
// design point of 10,000 published channels: with zipf popularity a cache
// of 4,096 missed 8% of lookups, one of 16,384 0.4% (BenchmarkMatchCacheSize
// on the dev machine); its slots take 128 KiB.
const DefaultMatchCacheSize = 16384 // power of two; see BenchmarkMatchCacheSize

// cacheWays is the match cache's associativity: a channel may sit in any of
// its set's four slots, which share a cache line.
const cacheWays = 4

// matchCache is a set-associative cache from a concrete channel to the
// patterns that match it, consulted by Lookup only while some pattern is
// subscribed. A slot holds an immutable answer and is replaced whole with an
// atomic store, so readers take no lock and allocate nothing. Its size is
// fixed.
//
// An answer is current when its generation is the trie's: no pattern was
// added or dropped since, which could change which patterns match.
// Subscribers coming and going on a pattern change nothing here: the answer
// holds the patterns' entries, whose members the publisher reads under
// their locks.
//
// Replacement is CLOCK within a set: a hit sets the answer's referenced bit
// (a store only when the bit is clear, so a hot answer's line is not
// written on every hit); a miss replaces a stale answer if its set has one,
// else the first answer not referenced since the last miss in that set,
// clearing the bits it passes. A hot channel is thus not evicted by the long
// tail of channels published once in a while.
type matchCache[S comparable, V any] struct {
	slots []atomic.Pointer[cached[S, V]] // read-only slice header after init
	shift uint8                          // 32 - log2(number of sets)
}

// cached is one answer of the match cache; immutable once stored, but for
// its referenced bit.
type cached[S comparable, V any] struct {
	hash    uint32 // the channel's hash: rejects most other channels cheaply
	ref     atomic.Bool
	gen     uint64
	channel string
	pats    []*Channel[S, V] // the matching patterns, by name; empty when none match
}

func (mc *matchCache[S, V]) init(size int) {
	size = max(size, cacheWays)
	mc.slots = make([]atomic.Pointer[cached[S, V]], size)
	mc.shift = uint8(32 - bits.TrailingZeros(uint(size/cacheWays)))
}

// set returns the slots of the set for a channel of hash h. The set comes
// from the high bits of h times a Fibonacci constant: the low bits of h pick
// the shard, and a cache indexed by them would crowd each shard's channels
// into 1/Shards of the sets.
func (mc *matchCache[S, V]) set(h uint32) []atomic.Pointer[cached[S, V]] {
	i := int(uint64(h*0x9E3779B1)>>mc.shift) * cacheWays
	return mc.slots[i : i+cacheWays : i+cacheWays]
}

// get returns the cached answer for channel if one is current.
func (mc *matchCache[S, V]) get(set []atomic.Pointer[cached[S, V]], channel string, h uint32, gen uint64) (*cached[S, V], bool) {
	for i := range set {
		c := set[i].Load()
		if c == nil || c.hash != h || c.gen != gen || c.channel != channel {
			continue
		}
		if !c.ref.Load() {
			c.ref.Store(true)
		}
		return c, true
	}
	return nil, false
}

// put stores c in its set: over an answer of an older generation or for the
// same channel if there is one, else over the first one not referenced
// since, clearing the bits of those it passes, else over the first.
func (mc *matchCache[S, V]) put(set []atomic.Pointer[cached[S, V]], c *cached[S, V]) {
	for i := range set {
		if old := set[i].Load(); old == nil || old.gen != c.gen || old.channel == c.channel {
			set[i].Store(c)
			return
		}
	}
	for i := range set {
		if old := set[i].Load(); old == nil || !old.ref.Swap(false) {
			set[i].Store(c)
			return
		}
	}
	set[0].Store(c)
}
