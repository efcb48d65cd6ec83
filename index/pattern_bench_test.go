package index

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkLookupPatterns looks up 2,000 channels in turn, a working set
// the match cache holds, with the pattern side in each of its states: no
// pattern at all (one atomic load), patterns that match none of the
// channels, patterns that match the token channels, all answered from the
// cache once warm; and "miss", where a pattern added or dropped before every
// lookup makes the cache useless.
func BenchmarkLookupPatterns(b *testing.B) {
	names := benchNames(2000)
	for _, tc := range []struct {
		name     string
		patterns []string
	}{
		{"none", nil},
		{"nomatch", []string{"news.*.headline", "chat.>"}},
		{"match", []string{"token.*.trade", "token.>", "token.*.liquidity"}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ix := New[*int, struct{}](DefaultShards)
			load(ix, names, newSubs(100))
			for _, p := range tc.patterns {
				for _, s := range newSubs(100) {
					join(ix, p, s)
				}
			}
			for _, ch := range names {
				ix.Lookup(ch) // warm the cache
			}
			lookupInTurn(b, ix, names)
		})
	}
	b.Run("miss", func(b *testing.B) {
		ix := New[*int, struct{}](DefaultShards)
		load(ix, names, newSubs(100))
		join(ix, "token.>", new(int))
		me := new(int)
		var h *Sub[*int, struct{}]
		b.ReportAllocs()
		n, i := 0, 0
		for b.Loop() {
			// A pattern added or dropped: the next Lookup misses.
			if i&1 == 0 {
				h = join(ix, "token.*.trade", me)
			} else {
				leave(ix, h)
			}
			n += reached(ix.Lookup(names[i]))
			if i++; i == len(names) {
				i = 0
			}
		}
		sinkInt = n
	})
}

// BenchmarkLookupPatternsParallel is the "match" case from every P at once:
// the cache is read without a lock, so it scales like the shards.
func BenchmarkLookupPatternsParallel(b *testing.B) {
	names := benchNames(2000)
	ix := New[*int, struct{}](DefaultShards)
	load(ix, names, newSubs(100))
	for _, p := range []string{"token.*.trade", "token.>", "token.*.liquidity"} {
		for _, s := range newSubs(100) {
			join(ix, p, s)
		}
	}
	for _, ch := range names {
		ix.Lookup(ch)
	}
	lookupParallel(b, ix, names)
}

// BenchmarkPatternChurn mixes zipf-popular lookups over 10,000 channels with
// member churn on patterns, one change per churn lookups: on
// "token.*.trade", which matches a fifth of the channels, and on "news.>",
// which matches none. Member changes invalidate no cached answer. It
// reports the match cache's miss rate.
func BenchmarkPatternChurn(b *testing.B) {
	names := benchNames(10000)
	order := zipfOrder(len(names), 1<<16)
	for _, churned := range []string{"token.*.trade", "news.>"} {
		for _, every := range []int{10, 100, 1000} {
			b.Run(fmt.Sprintf("pattern=%s/lookups-per-change=%d", churned, every), func(b *testing.B) {
				ix := New[*int, struct{}](DefaultShards)
				load(ix, names, newSubs(10))
				for _, p := range []string{"token.*.trade", "news.>", "token.>"} {
					for _, s := range newSubs(100) {
						join(ix, p, s)
					}
				}
				me := new(int)
				var h *Sub[*int, struct{}]
				misses := ix.trie.misses.Load()
				b.ReportAllocs()
				n, i := 0, 0
				for b.Loop() {
					if i%every == 0 {
						if i/every&1 == 0 {
							h = join(ix, churned, me)
						} else {
							leave(ix, h)
						}
					}
					n += reached(ix.Lookup(names[order[i&(len(order)-1)]]))
					i++
				}
				sinkInt = n
				b.ReportMetric(float64(ix.trie.misses.Load()-misses)/float64(b.N), "misses/op")
			})
		}
	}
}

// zipfOrder returns a sequence of n indexes into a slice of the given size,
// drawn with zipf popularity (s = 1.1): the order of publications.
func zipfOrder(size, n int) []int {
	z := rand.NewZipf(rand.New(rand.NewPCG(1, 1)), 1.1, 1, uint64(size-1))
	order := make([]int, n)
	for i := range order {
		order[i] = int(z.Uint64())
	}
	return order
}

// BenchmarkMatchCacheSize looks up 10,000 channels, all matched by a pattern,
// through match caches of several sizes, in zipf order and in a cycle over
// all of them (the worst case for any cache smaller than the set). It
// reports the miss rate: a miss walks the trie and allocates.
func BenchmarkMatchCacheSize(b *testing.B) {
	names := benchNames(10000)
	cycle := make([]int, len(names))
	for i := range cycle {
		cycle[i] = i
	}
	orders := []struct {
		name  string
		order []int
	}{{"zipf", zipfOrder(len(names), 1<<16)}, {"cycle", cycle}}
	for _, size := range []int{1024, 4096, 16384} {
		for _, o := range orders {
			b.Run(fmt.Sprintf("cache=%d/order=%s", size, o.name), func(b *testing.B) {
				ix := NewWith[*int, struct{}](Config{MatchCacheSize: size})
				load(ix, names, newSubs(10))
				join(ix, ">", new(int))
				for _, i := range o.order {
					ix.Lookup(names[i])
				}
				misses := ix.trie.misses.Load()
				b.ReportAllocs()
				n, i := 0, 0
				for b.Loop() {
					n += reached(ix.Lookup(names[o.order[i]]))
					if i++; i == len(o.order) {
						i = 0
					}
				}
				sinkInt = n
				b.ReportMetric(float64(ix.trie.misses.Load()-misses)/float64(b.N), "misses/op")
			})
		}
	}
}

// join adds s to name, as the server subscribes.
func join(ix *benchIndex, name string, s *int) *Sub[*int, struct{}] {
	ch := ix.Acquire(name)
	defer ch.Unlock()
	return ch.Add(s)
}
