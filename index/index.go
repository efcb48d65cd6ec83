package index

import "strings"

// DefaultShards is the shard count New uses when given 0.
const DefaultShards = 16 // power of two

// maxShards is the largest shard count New accepts.
const maxShards = 4096 // power of two

// Match is the set of subscribers a publication reaches.
//
// Exact is the immutable snapshot of the channel's exact subscribers, nil when
// there are none. Patterns returns one immutable snapshot per subscribed
// pattern that matches the channel. Callers must not modify the snapshots
// and must not hold them beyond the delivery of one publication.
//
// A subscriber appears at most once in each snapshot but may be in several:
// a connection subscribed to "token.BTC.trade" and "token.BTC.>" is in Exact
// and in one of Patterns(). The protocol delivers a publication once per
// connection, so a caller that walks Patterns must dedupe, for instance with
// a per-publication marker on the subscriber.
//
// Match is 32 bytes on purpose: the compiler keeps a struct of at most four
// words in registers, and a second slice field here made every Lookup 6-7 ns
// slower (BenchmarkLookup, 32 -> 39 ns on the dev machine).
type Match[S comparable] struct {
	Exact []S

	patterns *cached[S] // the match cache's answer; nil when no pattern matches
}

// Patterns returns the snapshots of the subscribers of each subscribed
// pattern that matches the channel, in no particular order, or nil when none
// matches. The outer slice is shared too: do not modify it.
func (m Match[S]) Patterns() [][]S {
	if m.patterns == nil {
		return nil
	}
	return m.patterns.snaps
}

// Len returns the number of subscriber entries in m, counting duplicates.
func (m Match[S]) Len() int {
	n := len(m.Exact)
	for _, p := range m.Patterns() {
		n += len(p)
	}
	return n
}

// Index is a striped subscription index: channels are spread over shards by
// hash, each shard with its own table, read without locks, and its own write
// lock; patterns live in a trie with a match cache in front. All methods are
// safe for concurrent use. The zero Index is not usable; call New or NewWith.
type Index[S comparable] struct {
	shards    []shard[S] // read-only after New
	mask      uint32     // len(shards)-1; read-only after New
	counting  bool       // Config.CountLookups; read-only after New
	writeMask uint64     // WriteSampleEvery-1, all ones when off; read-only after New

	// trie is embedded so that its pattern count and generation, which
	// every Lookup reads and only pattern changes write, share the line
	// of the fields above. It pads its own lock and counters away.
	trie trie[S]
}

// New returns an index with the given number of shards, which must be a power
// of two in [1, 4096]; 0 means DefaultShards. Any other value panics: the
// configuration is validated before New is called. The other settings are
// Config's defaults.
func New[S comparable](shards int) *Index[S] {
	return NewWith[S](Config{Shards: shards})
}

// NewWith returns an index configured by cfg. It panics if cfg.Validate
// fails: the configuration is validated before NewWith is called.
func NewWith[S comparable](cfg Config) *Index[S] {
	if err := cfg.Validate(); err != nil {
		panic(err.Error())
	}
	cfg = cfg.withDefaults()
	ix := &Index[S]{
		shards:    make([]shard[S], cfg.Shards),
		mask:      uint32(cfg.Shards - 1),
		counting:  cfg.CountLookups,
		writeMask: ^uint64(0),
	}
	if cfg.WriteSampleEvery > 0 {
		ix.writeMask = uint64(cfg.WriteSampleEvery - 1)
	}
	for i := range ix.shards {
		ix.shards[i].table.Store(newTable(minTableSize, &entry[S]{}))
	}
	ix.trie.init(cfg.MatchCacheSize)
	return ix
}

// Subscribe adds s to sub, a concrete channel or a pattern, and returns false
// when s was already subscribed to it (not an error; it is counted once). sub
// must satisfy ValidPattern: the caller validates it. Concrete channels go to
// their shard, patterns (IsPattern) to the trie. The index keeps its own copy
// of sub, so it may alias a buffer the caller reuses.
//
// The cost is O(subscribers of sub): a scan for a duplicate, then an append
// that copies the snapshot only when it outgrows its capacity. A pattern
// that had no subscriber also makes every cached pattern match stale.
func (ix *Index[S]) Subscribe(sub string, s S) bool {
	if wildcard(sub) {
		return ix.trie.subscribe(sub, s)
	}
	h := hash(sub)
	sh := &ix.shards[uint32(h)&ix.mask]
	defer sh.unlock(sh.lock(ix.writeMask))
	return sh.subscribe(h, sub, s)
}

// Unsubscribe removes s from sub, a concrete channel or a pattern, and
// reports whether it was subscribed. A channel or pattern left without
// subscribers is deleted.
//
// The cost is O(subscribers of sub): the new snapshot is a copy.
func (ix *Index[S]) Unsubscribe(sub string, s S) bool {
	if wildcard(sub) {
		return ix.trie.unsubscribe(sub, s)
	}
	return ix.unsubscribeChannel(sub, s)
}

func (ix *Index[S]) unsubscribeChannel(channel string, s S) bool {
	h := hash(channel)
	sh := &ix.shards[uint32(h)&ix.mask]
	defer sh.unlock(sh.lock(ix.writeMask))
	return sh.unsubscribe(h, channel, s)
}

// wildcard reports whether sub, which satisfies ValidPattern, is a pattern:
// in a valid name "*" and ">" appear only as wildcard tokens, so one search
// for each byte (vectorized) answers what IsPattern's scan of the tokens
// does.
func wildcard(sub string) bool {
	return strings.IndexByte(sub, '*') >= 0 || strings.IndexByte(sub, '>') >= 0
}

// RemoveAll removes s from each of subs, which is the subscriber's own list
// of channels and patterns kept by the caller, and returns how many it
// removed. It locks only those channels' shards, one at a time, and the
// pattern trie once if subs holds patterns, so its cost is O(len(subs))
// whatever the shard count.
func (ix *Index[S]) RemoveAll(s S, subs []string) int {
	removed, patterns := 0, 0
	for _, sub := range subs {
		if wildcard(sub) {
			patterns++
		} else if ix.unsubscribeChannel(sub, s) {
			removed++
		}
	}
	if patterns == 0 {
		return removed
	}
	names := subs
	if patterns < len(subs) {
		names = make([]string, 0, patterns)
		for _, sub := range subs {
			if wildcard(sub) {
				names = append(names, sub)
			}
		}
	}
	return removed + ix.trie.removeAll(s, names)
}

// Lookup returns the subscribers of the concrete channel: its exact
// subscribers and those of every matching pattern. It takes no lock, writes
// no shared memory (unless Config.CountLookups) and copies nothing, so
// lookups on different cores do not slow each other down.
//
// While no pattern is subscribed, the pattern side costs one atomic load and
// Patterns() is nil. Otherwise the answer comes from the match cache, without
// a lock or an allocation when the cached answer is current; a miss walks the
// trie under its read lock and allocates the new cache entry.
//
// The returned snapshots stay valid and unchanged however the index changes
// afterwards.
func (ix *Index[S]) Lookup(channel string) Match[S] {
	h := hash(channel)
	sh := &ix.shards[uint32(h)&ix.mask]
	if ix.counting {
		sh.lookups.Add(1)
	}
	subs := sh.table.Load().get(h, channel)
	// The capacity limit makes an append by a careless caller copy instead
	// of writing into the index's array.
	subs = subs[:len(subs):len(subs)]
	if ix.trie.count.Load() == 0 {
		return Match[S]{Exact: subs}
	}
	return Match[S]{Exact: subs, patterns: ix.trie.lookup(channel, uint32(h))}
}

// Channels returns the number of concrete channels and patterns with at least
// one subscriber: a pattern counts as one channel, however many channels it
// matches. It sums counters kept incrementally, taking each shard's read
// lock in turn: O(Shards()), for gauges and tests, not for the publish path.
func (ix *Index[S]) Channels() int {
	n := int(ix.trie.count.Load())
	for i := range ix.shards {
		n += ix.shardCounts(i).channels
	}
	return n
}

// Subscriptions returns the number of (channel or pattern, subscriber) pairs.
// Like Channels, it is O(Shards()).
func (ix *Index[S]) Subscriptions() int {
	n := int(ix.trie.subscriptions.Load())
	for i := range ix.shards {
		n += ix.shardCounts(i).subscriptions
	}
	return n
}

type counts struct{ channels, subscriptions int }

// shardCounts reads shard i's counters under its lock.
func (ix *Index[S]) shardCounts(i int) counts {
	sh := &ix.shards[i]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return counts{sh.table.Load().live, sh.subscriptions}
}

// Patterns returns the number of distinct patterns with at least one
// subscriber. It is O(1).
func (ix *Index[S]) Patterns() int {
	return int(ix.trie.count.Load())
}

// Shards returns the number of shards.
func (ix *Index[S]) Shards() int {
	return len(ix.shards)
}

// ShardOf returns the shard that channel hashes to, in [0, Shards()). The
// hash's seed is chosen when the process starts, so the answer differs from
// one run to the next.
func (ix *Index[S]) ShardOf(channel string) int {
	return int(uint32(hash(channel)) & ix.mask)
}

func (ix *Index[S]) shardFor(channel string) *shard[S] {
	return &ix.shards[uint32(hash(channel))&ix.mask]
}

// indexOf returns the position of s in subs, or -1.
func indexOf[S comparable](subs []S, s S) int {
	for i, x := range subs {
		if x == s {
			return i
		}
	}
	return -1
}

// without returns a new snapshot holding subs minus its element i, in order.
// It keeps the old capacity, so that subscribers arriving next append in
// place, unless the snapshot has shrunk below a quarter of it.
func without[S comparable](subs []S, i int) []S {
	n := len(subs) - 1
	c := cap(subs)
	if n < c/4 {
		c = 2 * n
	}
	next := make([]S, n, c)
	copy(next, subs[:i])
	copy(next[i:], subs[i+1:])
	return next
}
