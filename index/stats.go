package index

// ShardStats is a snapshot of one shard's contention counters and contents.
// The counters are cumulative since New; the times are in nanoseconds.
//
// A shard's lock is taken by writers only: Lookup reads the shard's table
// without a lock, so there is no read wait or read hold to measure, and
// publications cannot be slowed down by a busy shard. The write lock's wait
// and hold are the contention signal; Lookups, when counted, shows where
// the publications go.
type ShardStats struct {
	// Channels and Subscriptions are what the shard holds now: channels
	// with at least one member, and (channel, member) pairs. For
	// PatternStats they are patterns and (pattern, member) pairs.
	Channels      int
	Subscriptions int

	// Writes counts write-lock acquisitions: one per channel added or
	// dropped. WriteWaits of them had to wait, for WriteWaitNanos in all:
	// every wait is measured.
	// WriteSamples of them had their hold time measured, summed in
	// WriteHoldNanos (Config.WriteSampleEvery).
	Writes         uint64
	WriteWaits     uint64
	WriteWaitNanos uint64
	WriteSamples   uint64
	WriteHoldNanos uint64

	// Lookups counts Lookups on the shard when Config.CountLookups is set,
	// else 0. For PatternStats it counts match cache misses, each of which
	// takes the trie's read lock; ReadWaits, ReadWaitNanos and
	// ReadHoldNanos time those, and are 0 for a shard.
	Lookups       uint64
	ReadWaits     uint64
	ReadWaitNanos uint64
	ReadHoldNanos uint64

	// LockWaitNanos is the total lock wait. LockHoldNanos estimates the
	// total lock hold: the sampled hold times scaled up to every write
	// (Writes / WriteSamples), plus, for the trie, its misses' read holds.
	// These are the numbers to compare across shards: the hot shard is the
	// one whose lock times grow fastest.
	LockWaitNanos uint64
	LockHoldNanos uint64
}

// ShardStats returns shard i's counters, for i in [0, Shards()). It takes
// the shard's lock briefly. It panics if i is out of range.
func (ix *Index[S, V]) ShardStats(i int) ShardStats {
	sh := &ix.shards[i]
	sh.mu.Lock()
	st := ShardStats{
		Channels:       int(sh.counts.busy.Load()),
		Subscriptions:  int(sh.counts.subscriptions.Load()),
		Writes:         sh.writes,
		WriteWaits:     sh.writeWaits,
		WriteWaitNanos: sh.writeWaitNanos,
		WriteSamples:   sh.writeSamples,
		WriteHoldNanos: sh.writeHoldNanos,
	}
	sh.mu.Unlock()
	st.Lookups = sh.lookups.Load()
	st.estimate()
	return st
}

// PatternStats returns the pattern trie's counters in the same form as
// ShardStats: the trie is one more lock, taken to add or drop a pattern and
// by Lookups that miss the match cache.
func (ix *Index[S, V]) PatternStats() ShardStats {
	t := &ix.trie
	misses := t.misses.Load()
	writes := t.writes.Load()
	st := ShardStats{
		Channels:       int(t.counts.busy.Load()),
		Subscriptions:  int(t.counts.subscriptions.Load()),
		Writes:         writes,
		WriteWaits:     t.writeWaits.Load(),
		WriteWaitNanos: t.writeWaitNanos.Load(),
		WriteSamples:   writes,
		WriteHoldNanos: t.writeHoldNanos.Load(),
		ReadWaits:      t.missWaits.Load(),
		ReadWaitNanos:  t.missWaitNanos.Load(),
		Lookups:        misses,
		ReadHoldNanos:  t.missHoldNanos.Load(),
	}
	st.estimate()
	return st
}

// estimate fills LockWaitNanos and LockHoldNanos.
func (st *ShardStats) estimate() {
	st.LockWaitNanos = st.WriteWaitNanos + st.ReadWaitNanos
	st.LockHoldNanos = scale(st.WriteHoldNanos, st.Writes, st.WriteSamples) + st.ReadHoldNanos
}

// scale returns sum, taken over samples of n events, scaled up to all n.
func scale(sum, n, samples uint64) uint64 {
	if samples == 0 || n <= samples {
		return sum
	}
	return uint64(float64(sum) * float64(n) / float64(samples))
}
