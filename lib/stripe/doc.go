// Package stripe is a map split into lock-striped shards, for tables that
// many goroutines change at once (per-address counters and buckets): a key
// takes its shard's mutex only. Its methods are safe for concurrent use.
package stripe
