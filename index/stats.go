package index

// ShardStats is a snapshot of one shard's contention counters and contents.
// The counters are cumulative since New; the times are in nanoseconds.
type ShardStats struct {
	// Channels and Subscriptions are what the shard holds now: channels
	// with at least one subscriber, and (channel, subscriber) pairs. For
	// PatternStats they are patterns and (pattern, subscriber) pairs.
	Channels      int
	Subscriptions int

	// Writes counts write-lock acquisitions: one per Subscribe and
	// Unsubscribe, and one per channel RemoveAll takes out. WriteWaits of
	// them had to wait, for WriteWaitNanos in all: every wait is measured.
	// WriteSamples of them had their hold time measured, summed in
	// WriteHoldNanos (Config.WriteSampleEvery). PatternStats times every
	// write.
	Writes         uint64
	WriteWaits     uint64
	WriteWaitNanos uint64
	WriteSamples   uint64
	WriteHoldNanos uint64

	// ReadWaits counts the read locks that had to wait for a writer, and
	// ReadWaitNanos sums their waits. Every one is measured, whatever the
	// sampling: a Lookup first tries the lock, and only a failed try, the
	// contention event itself, reads the clock.
	ReadWaits     uint64
	ReadWaitNanos uint64

	// Lookups counts Lookup calls on the shard (0 when read sampling is
	// off). ReadSamples of them had their read-lock hold time measured,
	// summed in ReadHoldNanos. A sampled hold time includes about one clock
	// read (25 ns on the dev machine), as long as the read itself, so read
	// hold times are an upper bound. For PatternStats, Lookups and
	// ReadSamples count match cache misses, every one of which takes the
	// trie's read lock and is timed.
	Lookups       uint64
	ReadSamples   uint64
	ReadHoldNanos uint64

	// LockWaitNanos is the shard's total lock wait, reads and writes.
	// LockHoldNanos estimates its total lock hold: the sampled writes' and
	// reads' hold times, each scaled up to all of them (Writes /
	// WriteSamples, Lookups / ReadSamples). These are the numbers to
	// compare across shards: the hot shard is the one whose lock times
	// grow fastest.
	LockWaitNanos uint64
	LockHoldNanos uint64
}

// ShardStats returns shard i's counters, for i in [0, Shards()). It takes
// the shard's read lock briefly, for the fields writers keep under it. It
// panics if i is out of range.
func (ix *Index[S]) ShardStats(i int) ShardStats {
	sh := &ix.shards[i]
	sh.mu.RLock()
	st := ShardStats{
		Channels:       sh.channels,
		Subscriptions:  sh.subscriptions,
		Writes:         sh.writes,
		WriteWaits:     sh.writeWaits,
		WriteWaitNanos: sh.writeWaitNanos,
		WriteSamples:   sh.writeSamples,
		WriteHoldNanos: sh.writeHoldNanos,
	}
	sh.mu.RUnlock()
	st.ReadWaits = sh.readWaits.Load()
	st.ReadWaitNanos = sh.readWaitNanos.Load()
	st.Lookups = sh.lookups.Load()
	st.ReadSamples = sh.readSamples.Load()
	st.ReadHoldNanos = sh.readHoldNanos.Load()
	st.estimate()
	return st
}

// PatternStats returns the pattern trie's counters in the same form as
// ShardStats: the trie is one more lock, taken by pattern Subscribe and
// Unsubscribe, by RemoveAll of a client with patterns, and by Lookups that
// miss the match cache.
func (ix *Index[S]) PatternStats() ShardStats {
	t := &ix.trie
	misses := t.misses.Load()
	writes := t.writes.Load()
	st := ShardStats{
		Channels:       int(t.count.Load()),
		Subscriptions:  int(t.subscriptions.Load()),
		Writes:         writes,
		WriteWaits:     t.writeWaits.Load(),
		WriteWaitNanos: t.writeWaitNanos.Load(),
		WriteSamples:   writes,
		WriteHoldNanos: t.writeHoldNanos.Load(),
		ReadWaits:      t.missWaits.Load(),
		ReadWaitNanos:  t.missWaitNanos.Load(),
		Lookups:        misses,
		ReadSamples:    misses,
		ReadHoldNanos:  t.missHoldNanos.Load(),
	}
	st.estimate()
	return st
}

// estimate fills LockWaitNanos and LockHoldNanos.
func (st *ShardStats) estimate() {
	st.LockWaitNanos = st.WriteWaitNanos + st.ReadWaitNanos
	st.LockHoldNanos = scale(st.WriteHoldNanos, st.Writes, st.WriteSamples) +
		scale(st.ReadHoldNanos, st.Lookups, st.ReadSamples)
}

// scale returns sum, taken over samples of n events, scaled up to all n.
func scale(sum, n, samples uint64) uint64 {
	if samples == 0 || n <= samples {
		return sum
	}
	return uint64(float64(sum) * float64(n) / float64(samples))
}
