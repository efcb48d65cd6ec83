// Package index keeps wsfan's channels: each concrete channel and each
// wildcard pattern is one Channel entry holding its subscribers and the
// caller's per-channel State (seq, history), so that a publication finds
// everything about its channel with one hash and one Lookup.
//
// Concrete channels are spread over Shards() shards by a per-process
// maphash of the name; each shard is an open-addressing table of atomic
// slots, read without a lock and changed under the shard's mutex, which is
// taken only to add or drop an entry. Patterns live in a token trie under
// one RWMutex, behind a lock-free set-associative cache from a channel to
// the patterns that match it ("*" one token, a last ">" one or more).
//
// Concurrency: every method is safe for concurrent use. Lookup takes no
// lock, writes no shared memory and allocates nothing (a cache miss
// allocates its answer). A Channel's members and State are guarded by its
// lock: a publisher holds it while it walks the members (Lock for a channel,
// RLock for a pattern); Add and Remove, under Lock, cost O(1) whatever the
// channel's size, so a change waits at most for the walk in progress.
//
// Lock order: Channel locks before the shard and trie locks; several Channel
// locks in one order only: channels before patterns, each by name. No index
// lock is held while the index calls out, and it never calls back.
package index
