// Package index validates channel names and patterns and keeps the striped
// subscription index: the subscribers of each channel, found in O(1) by the
// publish path.
//
// # Shards
//
// A channel lives in one of Shards() shards (a power of two, DefaultShards by
// default), chosen by an FNV-1a hash of its name, computed over the string's
// bytes without allocating, with the high half folded into the low bits that
// pick the shard (see hash). Each shard has its own RWMutex and map and is
// padded to 128 bytes so that shard locks do not share cache lines.
//
// # Snapshots
//
// A channel's subscribers form an immutable slice, its snapshot. Lookup takes
// the shard's read lock, reads the snapshot's slice header and releases the
// lock: it allocates nothing and copies nothing. Writers never change an
// element a reader can see. Unsubscribe builds a new slice and swaps it in
// under the shard's write lock (copy-on-write). Subscribe appends in place
// when the slice has spare capacity, writing only past the length that every
// reader's snapshot ends at, and copies only when the slice must grow.
//
// Costs, with n the channel's subscribers: Subscribe is a scan for a
// duplicate plus an amortized O(1) append; Unsubscribe is a scan plus an O(n)
// copy. For a channel of 10,000 subscribers each Unsubscribe copies 10,000
// entries (64-74 µs and 80 KB of garbage on the 2-core AMD EPYC dev machine,
// BenchmarkSnapshotCost/copy), and a mass disconnect from one such channel
// costs O(n²) in total. That is accepted for now.
//
// A subscriber is found by a linear scan of the snapshot, not through a
// per-channel position map. Measured on the same machine at 10,000
// subscribers (BenchmarkSnapshotCost): the scan takes 5-6 µs, a map lookup
// 7-10 ns, and the copy Unsubscribe must make anyway 64-74 µs, so a map would
// save Unsubscribe under 10% while adding tens of bytes per subscription and
// a map write per change. Subscribe would gain more (5 µs to a few ns), but a
// 10,000-client subscribe storm on one channel scans for about 25 ms in all.
// If channels of 100,000 subscribers appear, keep a position map only for
// channels above a few hundred subscribers.
//
// # Concurrency
//
// All methods are safe for concurrent use. Lookup may be called from any
// goroutine; the returned snapshot is immutable and must not be modified. It
// stays valid whatever the index does afterwards, but it pins the memory of
// an old snapshot: drop it once its publication is delivered. Channels and
// Subscriptions read counters that writers update under their shard's lock;
// they are exact when no writer runs.
//
// # Lock order
//
// The shard locks are leaves:
//
//   - no two shard locks are held at once: RemoveAll takes its shards one at
//     a time;
//   - no index lock is held while calling out of the package: under a shard
//     lock the index does map and slice operations, atomic counter updates
//     and == on S, nothing else;
//   - so a caller may hold its own locks (a client's mutex) while calling the
//     index; the index never calls back.
//
// The pattern trie, to come behind the same API, keeps this rule: its lock is
// a leaf too and is never held together with a shard lock.
package index
