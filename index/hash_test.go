package index

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// rawFNV is FNV-1a without hash's final fold, to show why the fold is there.
func rawFNV(s string) uint32 {
	h := uint32(fnvOffset32)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= fnvPrime32
	}
	return h
}

func TestHashIsFNV1a(t *testing.T) {
	// Reference values of 32-bit FNV-1a, folded.
	f := func(s string, fnv uint32) {
		t.Helper()
		if got := rawFNV(s); got != fnv {
			t.Fatalf("rawFNV(%q) = %#x; want %#x", s, got, fnv)
		}
		if got, want := hash(s), fnv^fnv>>16; got != want {
			t.Fatalf("hash(%q) = %#x; want %#x", s, got, want)
		}
	}
	f("", 0x811c9dc5)
	f("a", 0xe40c292c)
	f("foobar", 0xbf9cf968)
}

func TestHashAllocs(t *testing.T) {
	s := "token.8f3a.liquidity"
	if allocs := testing.AllocsPerRun(100, func() { hash(s) }); allocs != 0 {
		t.Fatalf("hash allocates %v times per run; want 0", allocs)
	}
}

var events = []string{"trade", "liquidity", "orderbook", "ticker", "candles"}

// channelSets returns sets of 10,000 realistic channel names each, with
// sequential ids, which is what defeats a hash with weak low bits.
func channelSets() map[string][]string {
	const n = 10000
	r := rand.New(rand.NewPCG(1, 2))
	sets := map[string][]string{}
	add := func(name string, gen func(i int) string) {
		s := make([]string, n)
		for i := range s {
			s[i] = gen(i)
		}
		sets[name] = s
	}
	add("mixed", func(i int) string {
		switch i % 4 {
		case 0:
			return fmt.Sprintf("token.%d.%s", i/4, events[(i/4)%len(events)])
		case 1:
			return fmt.Sprintf("token.%x.%s", r.Uint32(), events[r.IntN(len(events))])
		case 2:
			return fmt.Sprintf("user.%d.favorites", i/4)
		default:
			return fmt.Sprintf("token.%04x.%s", i/4, events[(i/4)%len(events)])
		}
	})
	add("token.decimal.trade", func(i int) string { return fmt.Sprintf("token.%d.trade", i) })
	add("token.hex.event", func(i int) string { return fmt.Sprintf("token.%x.%s", i/5, events[i%5]) })
	add("token.hex.trade", func(i int) string { return fmt.Sprintf("token.%x.trade", i) })
	add("user.favorites", func(i int) string { return fmt.Sprintf("user.%d.favorites", i) })
	return sets
}

// distribution returns the largest relative deviation of a shard's count
// from the mean, and the chi-square statistic of the counts.
func distribution(names []string, shards int, h func(string) uint32) (worst, chi2 float64) {
	counts := make([]int, shards)
	for _, s := range names {
		counts[h(s)&uint32(shards-1)]++
	}
	mean := float64(len(names)) / float64(shards)
	for _, c := range counts {
		d := float64(c) - mean
		worst = max(worst, math.Abs(d)/mean)
		chi2 += d * d / mean
	}
	return worst, chi2
}

// TestShardDistribution checks that realistic names spread evenly.
//
// Tolerances, for 10,000 names: with 16 shards the mean is 625 and a uniform
// hash's standard deviation is sqrt(625*15/16) = 24.2 (3.9%), so ±15% is
// 3.9 sigma. With 64 shards the mean is 156 and sigma is 12.4 (7.9%), so the
// ±35% allowed is 4.4 sigma; the largest of 64 uniform counts is typically
// 2.5-3 sigma (20-24%) away, so ±15% would fail a perfect hash. With 256
// shards (mean 39, sigma 15.8%) the ±80% is 5 sigma, a loose check; there the
// chi-square is the one that bites (raw FNV-1a scores 573 on decimal ids). The
// chi-square bound, df + 5*sqrt(2*df), is passed by a uniform hash with
// probability above 99.9% and catches a skew spread over many shards.
func TestShardDistribution(t *testing.T) {
	for name, names := range channelSets() {
		for _, tc := range []struct {
			shards    int
			tolerance float64
		}{{16, 0.15}, {64, 0.35}, {256, 0.80}} {
			worst, chi2 := distribution(names, tc.shards, hash)
			df := float64(tc.shards - 1)
			chiMax := df + 5*math.Sqrt(2*df)
			_, rawChi2 := distribution(names, tc.shards, rawFNV)
			t.Logf("%s over %d shards: worst %.1f%%, chi2 %.0f (raw FNV-1a: %.0f), df %.0f",
				name, tc.shards, 100*worst, chi2, rawChi2, df)
			if worst > tc.tolerance {
				t.Errorf("%s over %d shards: a shard is %.1f%% off the mean; want at most %.0f%%",
					name, tc.shards, 100*worst, 100*tc.tolerance)
			}
			if chi2 > chiMax {
				t.Errorf("%s over %d shards: chi-square %.0f; want at most %.0f", name, tc.shards, chi2, chiMax)
			}
		}
	}
}
