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
// A fan-out walks a channel's subscribers through Walk: the four
// alternatives walk immutable snapshots, the production index walks the
// channel under its lock (issue 11 made its sets mutable, with O(1)
// changes). The benchmarks pass no function, so they compare finding a
// channel, with what its synchronization costs.
//
// sets.go compares the ways to keep one channel's subscribers (SetDesigns):
// the copy-on-write snapshot the index had, a dense set under the
// channel's lock (chosen), a lazily rebuilt snapshot and tombstoned slots.
//
// The benchmarks (bench_test.go) run a realistic mixed workload on 10,000
// channels with zipf popularity and 100,000 subscriptions; cmd/matrix turns
// their output into the table in docs/BENCHMARKS.md. All types are
// safe for concurrent use.
package strategies
