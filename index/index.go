package index

import (
	"strings"
	"sync/atomic"
)

// DefaultShards is the shard count New uses when given 0.
const DefaultShards = 16 // power of two

// maxShards is the largest shard count New accepts.
const maxShards = 4096 // power of two

// Match is what a publication reaches: its channel's entry, and the
// entries of the subscribed patterns that match it.
//
// Match is 16 bytes on purpose: the compiler keeps a small struct in
// registers, and every publication makes one.
type Match[S comparable, V any] struct {
	// Channel is the channel's entry, nil when it has none. It may have
	// been dropped since: the caller locks it and checks Dead.
	Channel *Channel[S, V]

	patterns *cached[S, V] // the match cache's answer; nil when no pattern matches
}

// Patterns returns the entries of the subscribed patterns that match the
// channel, sorted by name (the order to lock them in), or nil when none
// does. The slice is shared: do not modify it.
func (m Match[S, V]) Patterns() []*Channel[S, V] {
	if m.patterns == nil {
		return nil
	}
	return m.patterns.pats
}

// Index holds the entries of concrete channels, spread over shards by hash
// (each shard a table read without locks, with a write lock of its own), and
// of patterns, in a trie with a match cache in front. All methods are safe
// for concurrent use. The zero Index is not usable; call New or NewWith.
type Index[S comparable, V any] struct {
	shards    []shard[S, V] // read-only after New
	mask      uint32        // len(shards)-1; read-only after New
	counting  bool          // Config.CountLookups; read-only after New
	writeMask uint64        // WriteSampleEvery-1, all ones when off; read-only after New

	// trie is embedded so that its pattern count and generation, which
	// every Lookup reads and only pattern changes write, share the line
	// of the fields above. It pads its own lock and counters away.
	trie trie[S, V]
}

// New returns an index with the given number of shards, which must be a power
// of two in [1, 4096]; 0 means DefaultShards. Any other value panics: the
// configuration is validated before New is called. The other settings are
// Config's defaults.
func New[S comparable, V any](shards int) *Index[S, V] {
	return NewWith[S, V](Config{Shards: shards})
}

// NewWith returns an index configured by cfg. It panics if cfg.Validate
// fails: the configuration is validated before NewWith is called.
func NewWith[S comparable, V any](cfg Config) *Index[S, V] {
	if err := cfg.Validate(); err != nil {
		panic(err.Error())
	}
	cfg = cfg.withDefaults()
	ix := &Index[S, V]{
		shards:    make([]shard[S, V], cfg.Shards),
		mask:      uint32(cfg.Shards - 1),
		counting:  cfg.CountLookups,
		writeMask: ^uint64(0),
	}
	if cfg.WriteSampleEvery > 0 {
		ix.writeMask = uint64(cfg.WriteSampleEvery - 1)
	}
	for i := range ix.shards {
		ix.shards[i].table.Store(newTable(minTableSize, &Channel[S, V]{}))
	}
	ix.trie.init(cfg.MatchCacheSize)
	return ix
}

// Acquire returns the entry of name, a concrete channel or a pattern that
// satisfies ValidPattern (the caller validates it), creating it when
// absent, with its lock held (Lock) and not dead. The index keeps its own
// copy of name.
func (ix *Index[S, V]) Acquire(name string) *Channel[S, V] {
	for {
		var ch *Channel[S, V]
		if wildcard(name) {
			ch = ix.trie.acquire(name)
		} else {
			h := hash(name)
			sh := &ix.shards[uint32(h)&ix.mask]
			if ch = sh.table.Load().get(h, name); ch == nil {
				locked := sh.lock(ix.writeMask)
				ch = sh.insert(h, name)
				sh.unlock(locked)
			}
		}
		ch.Lock()
		if !ch.dead {
			return ch
		}
		ch.Unlock() // lost a race with Drop: take the new one
	}
}

// Relock locks ch, found by Lookup, and returns it; or, when ch was dropped
// meanwhile, unlocks it and returns the name's current entry (Acquire).
func (ix *Index[S, V]) Relock(ch *Channel[S, V]) *Channel[S, V] {
	ch.Lock()
	if !ch.dead {
		return ch
	}
	ch.Unlock()
	return ix.Acquire(ch.name)
}

// Drop takes ch, which the caller holds locked (Lock) and which has no
// members, out of the index and marks it dead: a later Acquire of its name
// makes a new entry. The caller still unlocks ch.
func (ix *Index[S, V]) Drop(ch *Channel[S, V]) {
	if len(ch.members) > 0 {
		panic("index: Drop of a channel with members")
	}
	if ch.dead {
		return
	}
	ch.dead = true
	if ch.pattern {
		ix.trie.drop(ch)
		return
	}
	sh := &ix.shards[uint32(ch.hash)&ix.mask]
	defer sh.unlock(sh.lock(ix.writeMask))
	sh.drop(ch)
}

// wildcard reports whether sub, which satisfies ValidPattern, is a pattern:
// in a valid name "*" and ">" appear only as wildcard tokens, so one search
// for each byte (vectorized) answers what IsPattern's scan of the tokens
// does.
func wildcard(sub string) bool {
	return strings.IndexByte(sub, '*') >= 0 || strings.IndexByte(sub, '>') >= 0
}

// Lookup returns what a publication to the concrete channel reaches: its
// entry, if any, and the matching patterns' entries. It takes no lock,
// writes no shared memory (unless Config.CountLookups) and allocates
// nothing when the answer is cached.
//
// While no pattern is subscribed, the pattern side costs one atomic load.
// Otherwise the answer comes from the match cache, without a lock or an
// allocation when the cached answer is current; a miss walks the trie under
// its read lock and allocates the new cache entry.
func (ix *Index[S, V]) Lookup(channel string) Match[S, V] {
	h := hash(channel)
	sh := &ix.shards[uint32(h)&ix.mask]
	if ix.counting {
		sh.lookups.Add(1)
	}
	ch := sh.table.Load().get(h, channel)
	if ix.trie.count.Load() == 0 {
		return Match[S, V]{Channel: ch}
	}
	return Match[S, V]{Channel: ch, patterns: ix.trie.lookup(channel, uint32(h))}
}

// Range calls fn for each concrete channel's entry in shard i, without
// locking it; fn may lock it (and Drop it). For sweeps that visit one shard
// at a time. Entries added meanwhile may be missed.
func (ix *Index[S, V]) Range(i int, fn func(ch *Channel[S, V])) {
	t := ix.shards[i].table.Load()
	for j := range t.slots {
		if e := t.slots[j].Load(); e != nil && e != t.tomb {
			fn(e)
		}
	}
}

// Channels returns the number of concrete channels and patterns with at
// least one member: a pattern counts as one, however many channels it
// matches. It sums counters kept incrementally: O(Shards()), for gauges and
// tests, not for the publish path.
func (ix *Index[S, V]) Channels() int {
	return ix.sum(func(c *counts) *atomic.Int64 { return &c.busy })
}

// Entries returns the number of entries held, with or without members:
// what the index costs in memory. O(Shards()).
func (ix *Index[S, V]) Entries() int {
	n := int(ix.trie.count.Load())
	for i := range ix.shards {
		n += ix.shardEntries(i)
	}
	return n
}

// shardEntries reads shard i's entry count under its lock.
func (ix *Index[S, V]) shardEntries(i int) int {
	sh := &ix.shards[i]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.table.Load().live
}

// Subscriptions returns the number of (channel or pattern, member) pairs.
// Like Channels, it is O(Shards()).
func (ix *Index[S, V]) Subscriptions() int {
	return ix.sum(func(c *counts) *atomic.Int64 { return &c.subscriptions })
}

// sum adds up one of the counters that the trie and every shard keep.
func (ix *Index[S, V]) sum(counter func(*counts) *atomic.Int64) int {
	n := int(counter(&ix.trie.counts).Load())
	for i := range ix.shards {
		n += int(counter(&ix.shards[i].counts).Load())
	}
	return n
}

// Patterns returns the number of patterns held. It is O(1).
func (ix *Index[S, V]) Patterns() int {
	return int(ix.trie.count.Load())
}

// Shards returns the number of shards.
func (ix *Index[S, V]) Shards() int {
	return len(ix.shards)
}

// ShardOf returns the shard that channel hashes to, in [0, Shards()). The
// hash's seed is chosen when the process starts, so the answer differs from
// one run to the next.
func (ix *Index[S, V]) ShardOf(channel string) int {
	return int(uint32(hash(channel)) & ix.mask)
}
