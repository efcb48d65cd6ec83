package index

import (
	"math/bits"
	"sync/atomic"
)

// minTableSize is the number of slots of an empty shard's table.
const minTableSize = 8 // power of two

// table is an open-addressing hash table with linear probing from channel
// name to Channel entry. Lookup reads it without any lock and writes nothing; writers
// change it under their shard's lock.
//
// Every slot is an atomic pointer, so a reader sees each slot either before
// or after a write, never half of one. A slot never goes from an entry back
// to nil: a deleted entry's slot gets the tombstone, which probes step over.
// When entries and tombstones would fill half of the slots, the writer
// builds a new table of the live entries, at most a third full, and
// publishes it whole; readers still probing the old one finish there and see
// the shard as it was when they started. Every probe therefore ends, and
// short: a probe that passes an entry pays a pointer chase to compare its
// hash, so the table trades slots (8 bytes each) for fewer of them.
type table[S comparable, V any] struct {
	slots []atomic.Pointer[Channel[S, V]] // read-only slice header
	mask  uint64                          // len(slots)-1
	tomb  *Channel[S, V]                  // the shard's tombstone

	// Guarded by the shard's lock.
	live int // entries
	used int // entries and tombstones
}

func newTable[S comparable, V any](size int, tomb *Channel[S, V]) *table[S, V] {
	return &table[S, V]{
		slots: make([]atomic.Pointer[Channel[S, V]], size),
		mask:  uint64(size - 1),
		tomb:  tomb,
	}
}

// start is the slot a probe for hash h begins at. The high half of h picks
// it: the low bits chose the shard, so within a shard they are all alike.
func (t *table[S, V]) start(h uint64) uint64 {
	return h >> 32 & t.mask
}

// get returns the entry of channel, whose hash is h, or nil. It takes no
// lock and writes nothing. It does not test for the tombstone: its name is
// empty, which no channel is.
func (t *table[S, V]) get(h uint64, channel string) *Channel[S, V] {
	for i := t.start(h); ; i = (i + 1) & t.mask {
		e := t.slots[i].Load()
		if e == nil {
			return nil
		}
		if e.hash == h && e.name == channel {
			return e
		}
	}
}

// find returns the slot holding channel's entry and the entry, or, when the
// channel is absent, the slot an insert should use (the first tombstone on
// the probe, else the nil that ended it) and nil. The caller holds the lock.
func (t *table[S, V]) find(h uint64, channel string) (int, *Channel[S, V]) {
	free := -1
	for i := t.start(h); ; i = (i + 1) & t.mask {
		e := t.slots[i].Load()
		switch {
		case e == nil:
			if free < 0 {
				free = int(i)
			}
			return free, nil
		case e == t.tomb:
			if free < 0 {
				free = int(i)
			}
		case e.hash == h && e.name == channel:
			return int(i), e
		}
	}
}

// full reports whether an insert into a nil slot would fill more than half
// of the slots.
func (t *table[S, V]) full() bool {
	return 2*(t.used+1) > len(t.slots)
}

// insert stores e, a channel absent from t, in slot i from find. The caller
// holds the lock and has checked full.
func (t *table[S, V]) insert(i int, e *Channel[S, V]) {
	if t.slots[i].Load() == nil {
		t.used++
	}
	t.live++
	t.slots[i].Store(e)
}

// remove puts the tombstone in slot i, which holds an entry.
func (t *table[S, V]) remove(i int) {
	t.slots[i].Store(t.tomb)
	t.live--
}

// rebuilt returns a new table of t's live entries with room for one more
// insert, at most a third full, so that a stream of inserts and deletes
// rebuilds after O(entries) of them. The caller holds the lock and
// publishes the result.
func (t *table[S, V]) rebuilt() *table[S, V] {
	size := max(minTableSize, 1<<bits.Len(uint(3*(t.live+1)-1)))
	nt := newTable(size, t.tomb)
	for i := range t.slots {
		e := t.slots[i].Load()
		if e == nil || e == t.tomb {
			continue
		}
		j := nt.start(e.hash)
		for nt.slots[j].Load() != nil {
			j = (j + 1) & nt.mask
		}
		nt.slots[j].Store(e)
		nt.live++
		nt.used++
	}
	return nt
}
