// Package index validates channel names and patterns and keeps the striped
// subscription index: the subscribers of each channel, found in O(1) by the
// publish path, and the subscribers of each wildcard pattern.
//
// # Shards
//
// A concrete channel lives in one of Shards() shards (a power of two,
// DefaultShards by default), chosen by the low bits of a maphash of its
// name, computed over the string's bytes without allocating. The hash's seed
// is random per process. Each shard has an open-addressing table (table.go)
// and a write lock, padded so that shards do not share cache lines.
//
// # Lock-free lookups
//
// Lookup takes no lock and writes no shared memory: it hashes the name once,
// loads the shard's table pointer, probes the table's atomic slots and
// returns the snapshot of the entry it finds. Lookups on different cores
// therefore never move a cache line between them, and a publication is never
// delayed by a subscribe on the same shard. Writers (Subscribe, Unsubscribe,
// RemoveAll) take the shard's mutex, build a new immutable entry and store it
// in its slot; a deleted channel's slot gets a tombstone; when entries and
// tombstones would fill three quarters of the table, the writer builds a new
// table and swaps it in. A reader in the middle of a probe finishes on what
// it loaded and sees the shard as it was when it started.
//
// An earlier version read a Go map under a per-shard sync.RWMutex. Its
// RLock writes the lock's reader count, so the shard's cache line moved
// between cores on about every other lookup, whatever the shard count:
// lookups scaled 1.4x from 1 to 2 cores. Lock-free, they scale 2.0x, and
// one core is faster too, since the table is probed with the hash that
// picked the shard instead of hashing the name a second time
// (docs/BENCHMARKS.md).
//
// # Snapshots
//
// A channel's subscribers form an immutable slice, its snapshot, held by an
// immutable entry. Unsubscribe builds a new slice (copy-on-write). Subscribe
// appends in place when the slice has spare capacity, writing only past the
// length that every reader's snapshot ends at, and copies only when the slice
// must grow. Either way the new snapshot goes into a new entry.
//
// Costs, with n the channel's subscribers: Subscribe is a scan for a
// duplicate plus an amortized O(1) append; Unsubscribe is a scan plus an O(n)
// copy. For a channel of 10,000 subscribers each Unsubscribe copies 10,000
// entries (64-74 µs and 80 KB of garbage on the 2-core AMD EPYC dev machine,
// BenchmarkSnapshotCost/copy), and a mass disconnect from one such channel
// costs O(n²) in total. With zipf popularity the top channel holds about a
// tenth of all subscriptions, and its copies, with the garbage collector's
// write barriers and scanning they cause, dominate the realistic mixed
// workload of docs/BENCHMARKS.md; the remedies are listed there.
//
// A subscriber is found by a linear scan of the snapshot, not through a
// per-channel position map. Measured on the same machine at 10,000
// subscribers (BenchmarkSnapshotCost): the scan takes 5-6 µs, a map lookup
// 7-10 ns, and the copy Unsubscribe must make anyway 64-74 µs, so a map would
// save Unsubscribe under 10% while adding tens of bytes per subscription and
// a map write per change.
//
// # Patterns
//
// Subscribe and Unsubscribe take patterns too (IsPattern): "*" matches one
// token, a last ">" one or more, as NATS subjects have them. Patterns live in
// a token trie (trie.go, as nats-server's sublist) under its own RWMutex,
// consulted by Lookup only while at least one pattern is subscribed: until
// then the pattern side of a Lookup is one atomic load. In front of the trie
// sits a bounded, set-associative match cache (cache.go) from a concrete
// channel to the snapshots of the patterns that match it; a hit takes no lock
// and allocates nothing. An answer is stale when a pattern was added or
// removed since (a generation number) or when a matching pattern's
// subscribers changed (a version per pattern), so churn on one pattern does
// not evict the answers for channels it does not match.
//
// A subscriber may be in Match.Exact and in several pattern snapshots; the
// caller dedupes (see Match).
//
// # Contention metrics
//
// ShardStats, PatternStats and RegisterMetrics expose per-shard write-lock
// wait and hold times, writes, channels and subscriptions, and the pattern
// count, without a global registry. Waits are measured only when a TryLock
// fails, so an uncontended write reads no clock; hold times are sampled
// (Config.WriteSampleEvery). Lookups take no lock and are not counted unless
// Config.CountLookups is set.
//
// # Concurrency
//
// All methods are safe for concurrent use. Lookup may be called from any
// goroutine; the returned snapshots are immutable and must not be modified.
// They stay valid whatever the index does afterwards, but they pin the memory
// of old snapshots: drop them once their publication is delivered. Channels,
// Subscriptions and ShardStats take each shard's lock briefly; they are exact
// when no writer runs.
//
// # Lock order
//
// The index's locks are leaves:
//
//   - shard locks are taken by writers only, and no two at once: RemoveAll
//     takes its shards one at a time;
//   - the trie's lock is never held together with a shard lock: RemoveAll
//     releases every shard lock before it takes the trie's, once;
//   - no index lock is held while calling out of the package: under a lock
//     the index does table, map and slice operations, atomic loads and
//     stores, clock reads and == on S, nothing else;
//   - so a caller may hold its own locks (a client's mutex) while calling the
//     index; the index never calls back.
package index
