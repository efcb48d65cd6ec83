package index

import (
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
	"wsfan/lib/cacheline"
	"wsfan/lib/monotime"
)

// shard is one stripe of the index, padded so that no two shards share a
// cache line.
type shard[S comparable, V any] struct {
	shardState[S, V]
	// Never empty: a zero-size last field would make the compiler pad the
	// struct past the line.
	_ [cacheline.Size - unsafe.Sizeof(shardState[struct{}, struct{}]{})%cacheline.Size]byte
}

// shardState is a shard's table, write lock and counters.
//
// Lookup reads only the table pointer and the table: it takes no lock and
// writes nothing, so readers on different cores never move a cache line
// between them. The writers' lock and counters sit on the next line, so that
// a write does not evict the table pointer from the readers' caches either.
// The lock is taken to add or drop a channel only; subscribers come and go
// under each channel's own lock.
//
// A write's wait is measured exactly: a writer first tries the lock, and only
// a failed try, the contention event itself, reads the clock. Its hold time
// is sampled, since timing a hold costs two clock reads (about 50 ns on the
// dev machine).
type shardState[S comparable, V any] struct {
	table atomic.Pointer[table[S, V]] // replaced under mu when it is rebuilt
	_     [64 - 8]byte

	mu sync.Mutex

	// lookups counts Lookups on the shard when Config.CountLookups is set;
	// the only field readers write.
	lookups atomic.Uint64

	// counts are kept by the shard's channels, each under its own lock.
	counts counts

	// Guarded by mu.
	writes         uint64 // write-lock acquisitions
	writeWaits     uint64 // write locks that had to wait
	writeWaitNanos uint64
	writeSamples   uint64 // writes whose hold was timed
	writeHoldNanos uint64
}

// lock takes sh's write lock and counts it. A wait is timed; the hold is
// timed for one write in sampleMask+1, for which lock returns the moment the
// lock was taken, else 0. Pass the result to unlock.
func (sh *shard[S, V]) lock(sampleMask uint64) int64 {
	if !sh.mu.TryLock() {
		t0 := monotime.Now()
		sh.mu.Lock()
		sh.writeWaits++
		sh.writeWaitNanos += uint64(monotime.Now() - t0)
	}
	sh.writes++
	if sh.writes&sampleMask != 0 {
		return 0
	}
	return monotime.Now()
}

// unlock records the hold time if lock timed it and releases the write
// lock. Callers defer it, so a panic under the lock releases it too.
func (sh *shard[S, V]) unlock(locked int64) {
	if locked != 0 {
		sh.writeSamples++
		sh.writeHoldNanos += uint64(monotime.Now() - locked)
	}
	sh.mu.Unlock()
}

// insert returns the entry of channel, of hash h, creating it when absent.
// The caller holds the lock.
func (sh *shard[S, V]) insert(h uint64, channel string) *Channel[S, V] {
	t := sh.table.Load()
	i, e := t.find(h, channel)
	if e != nil {
		return e
	}
	if t.full() {
		t = t.rebuilt()
		sh.table.Store(t)
		i, _ = t.find(h, channel)
	}
	e = &Channel[S, V]{name: strings.Clone(channel), hash: h, counts: &sh.counts}
	t.insert(i, e)
	return e
}

// drop takes e out of the table. The caller holds the lock.
func (sh *shard[S, V]) drop(e *Channel[S, V]) {
	t := sh.table.Load()
	if i, found := t.find(e.hash, e.name); found == e {
		t.remove(i)
	}
}
