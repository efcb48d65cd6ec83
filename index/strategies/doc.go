// Package strategies compares five ways to build the subscription index
// behind one small interface, Strategy, outside the production path:
//
//   - rwmap: the predecessor's single sync.RWMutex over one map;
//   - striped: the production index, wsfan/index, through a thin adapter,
//     with its shard count as a parameter (the sweep runs 4 to 64);
//   - perchannel: a manager per channel, each with its own lock, found
//     through a registry map under a sync.RWMutex;
//   - syncmap: a sync.Map of entries whose subscriber slice is replaced by
//     copy and compare-and-swap;
//   - actor: a single goroutine owns the map and serves every call through
//     a channel.
//
// Every strategy hands out immutable snapshots, as the production index
// does: Lookup returns a slice the strategy never writes again, so the
// comparison is about locking and bookkeeping, not about copying.
//
// The benchmarks (bench_test.go) run a realistic mixed workload on 10,000
// channels with zipf popularity and 100,000 subscriptions; cmd/matrix turns
// their output into the table in docs/BENCHMARKS.md. All types are
// safe for concurrent use.
package strategies
