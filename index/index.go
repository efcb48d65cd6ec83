package index

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
)

// DefaultShards is the shard count New uses when given 0.
const DefaultShards = 16 // power of two

// maxShards is the largest shard count New accepts.
const maxShards = 4096 // power of two

// cacheLinePad is the stride that keeps two shards' locks apart: two 64-byte
// lines, since x86 prefetches lines in adjacent pairs.
const cacheLinePad = 128

// Match is the set of subscribers a publication reaches.
//
// Exact is the immutable snapshot of the channel's exact subscribers, nil when
// there are none. Callers must not modify it and must not hold it beyond the
// delivery of one publication. (Pattern snapshots will join it here; a
// subscriber may then appear more than once across them, and callers dedupe.)
type Match[S comparable] struct {
	Exact []S
}

// Len returns the number of subscriber entries in m, counting duplicates.
func (m Match[S]) Len() int {
	return len(m.Exact)
}

// Index is a striped subscription index: channels are spread over shards by
// hash, each shard under its own lock. All methods are safe for concurrent
// use. The zero Index is not usable; call New.
type Index[S comparable] struct {
	shards []shard[S] // read-only after New
	mask   uint32     // len(shards)-1; read-only after New

	// The counters are written by every Subscribe and Unsubscribe; the pad
	// keeps them off the line that Lookup reads shards and mask from.
	_             [cacheLinePad]byte
	channels      atomic.Int64 // channels with at least one subscriber
	subscriptions atomic.Int64 // (channel, subscriber) pairs
}

// shard is one stripe of the index, padded so that no two shards' locks share
// a cache line.
type shard[S comparable] struct {
	shardState[S]
	_ [cacheLinePad - unsafe.Sizeof(shardState[struct{}]{})%cacheLinePad]byte
}

type shardState[S comparable] struct {
	mu sync.RWMutex

	// subs maps a channel to its entry; guarded by mu. Every entry has at
	// least one subscriber: the last Unsubscribe deletes it.
	subs map[string]*entry[S]

	// writes counts write-lock acquisitions; guarded by mu. Tests read it to
	// see which shards an operation touched.
	writes uint64
}

// entry holds one channel's subscribers. The map value is a pointer so that
// updating the snapshot never reassigns the map slot, which would replace the
// key Subscribe copied with the caller's string.
type entry[S comparable] struct {
	// subs is the current snapshot; guarded by the shard's mu.
	//
	// Invariant: elements [0, len(subs)) of a slice stored here are never
	// written again. Subscribe appends in place when there is capacity,
	// writing only past len(subs), which no reader can see: Lookup hands
	// out subs[:len:len], and every snapshot sharing the array is a prefix
	// of the current one. Unsubscribe builds a new array.
	subs []S
}

// New returns an index with the given number of shards, which must be a power
// of two in [1, 4096]; 0 means DefaultShards. Any other value panics: the
// configuration is validated before New is called.
func New[S comparable](shards int) *Index[S] {
	if shards == 0 {
		shards = DefaultShards
	}
	if shards < 1 || shards > maxShards || shards&(shards-1) != 0 {
		panic(fmt.Sprintf("index: shard count %d is not a power of two in [1, %d]", shards, maxShards))
	}
	ix := &Index[S]{
		shards: make([]shard[S], shards),
		mask:   uint32(shards - 1),
	}
	for i := range ix.shards {
		ix.shards[i].subs = make(map[string]*entry[S])
	}
	return ix
}

// Subscribe adds s to channel. It returns false when s was already subscribed
// (not an error; it is counted once). channel must satisfy ValidChannel: the
// caller validates it. The index keeps its own copy of channel, so it may
// alias a buffer the caller reuses.
//
// The cost is O(subscribers of channel): a scan for a duplicate, then an
// append that copies the snapshot only when it outgrows its capacity.
func (ix *Index[S]) Subscribe(channel string, s S) bool {
	sh := ix.shardFor(channel)
	sh.lock()
	defer sh.mu.Unlock()
	e := sh.subs[channel]
	switch {
	case e == nil:
		sh.subs[strings.Clone(channel)] = &entry[S]{subs: []S{s}}
		ix.channels.Add(1)
	case indexOf(e.subs, s) >= 0:
		return false
	default:
		e.subs = append(e.subs, s) // in place past len is safe; see entry.subs
	}
	ix.subscriptions.Add(1)
	return true
}

// Unsubscribe removes s from channel and reports whether it was subscribed.
// A channel left without subscribers is deleted from its shard.
//
// The cost is O(subscribers of channel): the new snapshot is a copy.
func (ix *Index[S]) Unsubscribe(channel string, s S) bool {
	sh := ix.shardFor(channel)
	sh.lock()
	defer sh.mu.Unlock()
	e := sh.subs[channel]
	if e == nil {
		return false
	}
	i := indexOf(e.subs, s)
	if i < 0 {
		return false
	}
	if len(e.subs) == 1 {
		delete(sh.subs, channel)
		ix.channels.Add(-1)
	} else {
		e.subs = without(e.subs, i)
	}
	ix.subscriptions.Add(-1)
	return true
}

// RemoveAll removes s from each of channels, which is the subscriber's own
// list of subscriptions kept by the caller, and returns how many it removed.
// It locks only those channels' shards, one at a time, so its cost is
// O(len(channels)) whatever the shard count.
func (ix *Index[S]) RemoveAll(s S, channels []string) int {
	removed := 0
	for _, channel := range channels {
		if ix.Unsubscribe(channel, s) {
			removed++
		}
	}
	return removed
}

// Lookup returns the subscribers of the concrete channel. It allocates and
// copies nothing, and holds the shard's read lock only while it runs. The
// returned snapshot stays valid and unchanged however the index changes
// afterwards.
func (ix *Index[S]) Lookup(channel string) Match[S] {
	sh := ix.shardFor(channel)
	sh.mu.RLock()
	var subs []S
	if e := sh.subs[channel]; e != nil {
		subs = e.subs
	}
	sh.mu.RUnlock()
	// The capacity limit makes an append by a careless caller copy instead
	// of writing into the index's array.
	return Match[S]{Exact: subs[:len(subs):len(subs)]}
}

// Channels returns the number of channels with at least one subscriber. It is
// O(1): the count is kept incrementally.
func (ix *Index[S]) Channels() int {
	return int(ix.channels.Load())
}

// Subscriptions returns the number of (channel, subscriber) pairs. It is
// O(1): the count is kept incrementally.
func (ix *Index[S]) Subscriptions() int {
	return int(ix.subscriptions.Load())
}

// Shards returns the number of shards.
func (ix *Index[S]) Shards() int {
	return len(ix.shards)
}

// ShardOf returns the shard that channel hashes to, in [0, Shards()).
func (ix *Index[S]) ShardOf(channel string) int {
	return int(hash(channel) & ix.mask)
}

func (ix *Index[S]) shardFor(channel string) *shard[S] {
	return &ix.shards[hash(channel)&ix.mask]
}

// lock takes sh's write lock and counts it.
func (sh *shard[S]) lock() {
	sh.mu.Lock()
	sh.writes++
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
