package index

import "hash/maphash"

// seed is the channel hash's seed, chosen at random when the process starts:
// which shard a channel lands in differs from one run to the next, and no
// client can aim a set of channel names at one shard.
var seed = maphash.MakeSeed()

// hash returns maphash.String of s, which hashes the string's bytes in place
// (with AES instructions where the CPU has them) and allocates nothing. It
// is the only hash a Lookup computes: its low bits pick the shard, its high
// half the slot in the shard's table, and the match cache multiplies its low
// half and takes the product's high bits.
//
// It replaced FNV-1a, whose multiply per byte forms one long dependency
// chain: on a 20-byte name FNV-1a took 17 ns of a 36 ns lookup, maphash
// takes 6 ns (2-core AMD EPYC dev machine; BenchmarkHash and
// docs/BENCHMARKS.md). maphash also mixes every input bit into the low
// bits, which FNV-1a needed a fold for (TestShardDistribution).
func hash(s string) uint64 {
	return maphash.String(seed, s)
}
