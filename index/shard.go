package index

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// cacheLinePad is the stride that keeps two shards apart: two 64-byte lines,
// since x86 prefetches lines in adjacent pairs.
const cacheLinePad = 128

// shard is one stripe of the index, padded so that no two shards share a
// cache line.
type shard[S comparable] struct {
	shardState[S]
	// Never empty: a zero-size last field would make the compiler pad the
	// struct past the line.
	_ [cacheLinePad - unsafe.Sizeof(shardState[struct{}]{})%cacheLinePad]byte
}

// shardState is a shard's table, write lock and counters.
//
// Lookup reads only the table pointer and the table: it takes no lock and
// writes nothing, so readers on different cores never move a cache line
// between them. The writers' lock and counters sit on the next line, so that
// a write does not evict the table pointer from the readers' caches either.
//
// A write's wait is measured exactly: a writer first tries the lock, and only
// a failed try, the contention event itself, reads the clock. Its hold time
// is sampled, since timing a hold costs two clock reads (about 50 ns on the
// dev machine), a fifth of a small Unsubscribe.
type shardState[S comparable] struct {
	table atomic.Pointer[table[S]] // replaced under mu when it is rebuilt
	_     [64 - 8]byte

	mu sync.Mutex

	// lookups counts Lookups on the shard when Config.CountLookups is set;
	// the only field readers write.
	lookups atomic.Uint64

	// Guarded by mu.
	writes         uint64 // write-lock acquisitions
	writeWaits     uint64 // write locks that had to wait
	writeWaitNanos uint64
	writeSamples   uint64 // writes whose hold was timed
	writeHoldNanos uint64
	subscriptions  int // the entries' subscribers, summed
}

// epoch is the origin of nanotime.
var epoch = time.Now()

// nanotime returns monotonic nanoseconds since epoch, plus one so that it is
// never 0, which lock uses to mean "not timed". time.Since on a time with a
// monotonic reading costs one clock read (25 ns on the 2-core AMD EPYC dev
// machine, against 47 ns for time.Now).
func nanotime() int64 {
	return int64(time.Since(epoch)) + 1
}

// lock takes sh's write lock and counts it. A wait is timed; the hold is
// timed for one write in sampleMask+1, for which lock returns the moment the
// lock was taken, else 0. Pass the result to unlock.
func (sh *shard[S]) lock(sampleMask uint64) int64 {
	if !sh.mu.TryLock() {
		t0 := nanotime()
		sh.mu.Lock()
		sh.writeWaits++
		sh.writeWaitNanos += uint64(nanotime() - t0)
	}
	sh.writes++
	if sh.writes&sampleMask != 0 {
		return 0
	}
	return nanotime()
}

// unlock records the hold time if lock timed it and releases the write
// lock. Callers defer it, so a panic under the lock releases it too.
func (sh *shard[S]) unlock(locked int64) {
	if locked != 0 {
		sh.writeSamples++
		sh.writeHoldNanos += uint64(nanotime() - locked)
	}
	sh.mu.Unlock()
}

// subscribe adds s to channel, of hash h, and reports whether it was new.
// The caller holds the lock.
func (sh *shard[S]) subscribe(h uint64, channel string, s S) bool {
	t := sh.table.Load()
	i, e := t.find(h, channel)
	if e != nil {
		if indexOf(e.subs, s) >= 0 {
			return false
		}
		// In place past len is safe; see entry.subs.
		t.slots[i].Store(&entry[S]{hash: h, name: e.name, subs: append(e.subs, s)})
		sh.subscriptions++
		return true
	}
	if t.full() {
		t = t.rebuilt()
		sh.table.Store(t)
		i, _ = t.find(h, channel)
	}
	t.insert(i, &entry[S]{hash: h, name: strings.Clone(channel), subs: []S{s}})
	sh.subscriptions++
	return true
}

// unsubscribe removes s from channel, of hash h, and reports whether it was
// there. A channel left without subscribers leaves the table. The caller
// holds the lock.
func (sh *shard[S]) unsubscribe(h uint64, channel string, s S) bool {
	t := sh.table.Load()
	i, e := t.find(h, channel)
	if e == nil {
		return false
	}
	j := indexOf(e.subs, s)
	if j < 0 {
		return false
	}
	if len(e.subs) == 1 {
		t.remove(i)
	} else {
		t.slots[i].Store(&entry[S]{hash: h, name: e.name, subs: without(e.subs, j)})
	}
	sh.subscriptions--
	return true
}
