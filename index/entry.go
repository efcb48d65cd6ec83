package index

import (
	"sync"
	"sync/atomic"
)

// Channel is one concrete channel or one wildcard pattern: its subscribers
// and the caller's per-channel State, behind one lock. Its address is
// stable from Acquire until Drop, so a publication finds everything about
// its channel with one Lookup.
//
// The members and State are guarded by the channel's lock. A publisher
// holds it while it walks Members (Lock for a channel, whose State it
// changes; RLock for a pattern); Add and Remove need Lock and cost O(1)
// whatever the number of members, so a subscribe or unsubscribe waits at
// most for the walk in progress and never makes a walk wait long.
type Channel[S comparable, V any] struct {
	mu      sync.RWMutex
	name    string
	hash    uint64
	pattern bool
	dead    bool         // dropped from the index: no member is ever added again
	members []S          // dense; order changes on Remove
	handles []*Sub[S, V] // handles[i] is members[i]'s
	counts  *counts      // the shard's (or the trie's) subscription counters

	// State belongs to the caller, under the channel's lock; the index
	// never reads it. It starts as V's zero value.
	State V
}

// Sub is one member's place in a Channel: what Add returns and Remove
// takes, so that removal finds the member without a search.
type Sub[S comparable, V any] struct {
	ch *Channel[S, V]
	i  int // index in ch.members; guarded by ch's lock
}

// Channel returns the channel or pattern s belongs to.
func (s *Sub[S, V]) Channel() *Channel[S, V] { return s.ch }

// counts are the subscription counters of a shard or of the trie, kept by
// Add and Remove under each channel's own lock, so atomic.
type counts struct {
	subscriptions atomic.Int64 // (channel, member) pairs
	busy          atomic.Int64 // channels with at least one member
}

// Name returns the channel's name or pattern.
func (ch *Channel[S, V]) Name() string { return ch.name }

// IsPattern reports whether ch is a wildcard pattern.
func (ch *Channel[S, V]) IsPattern() bool { return ch.pattern }

// Lock, Unlock, RLock and RUnlock are the channel's lock.
func (ch *Channel[S, V]) Lock()    { ch.mu.Lock() }
func (ch *Channel[S, V]) Unlock()  { ch.mu.Unlock() }
func (ch *Channel[S, V]) RLock()   { ch.mu.RLock() }
func (ch *Channel[S, V]) RUnlock() { ch.mu.RUnlock() }

// Dead reports whether ch was dropped from the index. The caller holds the
// lock; a dead channel has no members and gets none.
func (ch *Channel[S, V]) Dead() bool { return ch.dead }

// Members returns the members, in no particular order. The caller holds
// the lock (either mode) and must not keep or modify the slice past it.
func (ch *Channel[S, V]) Members() []S { return ch.members }

// Len returns the number of members. The caller holds the lock.
func (ch *Channel[S, V]) Len() int { return len(ch.members) }

// Add adds s and returns its handle. The caller holds Lock, keeps the
// handle (Remove takes it) and guarantees that s is not a member already:
// the caller's own record of s's subscriptions says so. ch must not be dead.
func (ch *Channel[S, V]) Add(s S) *Sub[S, V] {
	if ch.dead {
		panic("index: Add to a dropped channel")
	}
	h := &Sub[S, V]{ch: ch, i: len(ch.members)}
	ch.members = append(ch.members, s)
	ch.handles = append(ch.handles, h)
	ch.counts.subscriptions.Add(1)
	if len(ch.members) == 1 {
		ch.counts.busy.Add(1)
	}
	return h
}

// Remove removes the member of handle h, which must be one of ch's, by
// moving the last member into its place. The caller holds Lock.
func (ch *Channel[S, V]) Remove(h *Sub[S, V]) {
	last := len(ch.members) - 1
	moved := ch.handles[last]
	ch.members[h.i], ch.handles[h.i] = ch.members[last], moved
	moved.i = h.i
	var zero S
	ch.members[last], ch.handles[last] = zero, nil
	ch.members, ch.handles = ch.members[:last], ch.handles[:last]
	h.i = -1
	ch.counts.subscriptions.Add(-1)
	if last == 0 {
		ch.counts.busy.Add(-1)
		// Let a channel that had a crowd shrink back.
		ch.members, ch.handles = nil, nil
	} else if last < cap(ch.members)/4 && cap(ch.members) > 64 {
		ch.members = append(make([]S, 0, 2*last), ch.members...)
		ch.handles = append(make([]*Sub[S, V], 0, 2*last), ch.handles...)
	}
}

// TryLock tries to take the channel's lock (Lock) without waiting.
func (ch *Channel[S, V]) TryLock() bool { return ch.mu.TryLock() }
