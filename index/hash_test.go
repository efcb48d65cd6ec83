package index

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// rawFNV is 32-bit FNV-1a, the hash the index used before maphash. Its low
// bits depend only on the low bits of each input byte (xor and multiply
// carry information upwards only), so it picks shards unevenly; it is the
// negative control of TestShardDistribution.
func rawFNV(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

func TestRawFNV(t *testing.T) {
	f := func(s string, want uint32) {
		t.Helper()
		if got := rawFNV(s); got != want {
			t.Fatalf("rawFNV(%q) = %#x; want %#x", s, got, want)
		}
	}
	// Reference values of 32-bit FNV-1a.
	f("", 0x811c9dc5)
	f("a", 0xe40c292c)
	f("foobar", 0xbf9cf968)
}

func TestHashIsStable(t *testing.T) {
	for _, s := range []string{"", "a", "token.BTC.trade", strings.Repeat("x", 128)} {
		if hash(s) != hash(strings.Clone(s)) {
			t.Fatalf("hash(%q) differs between two copies of the string", s)
		}
	}
	if hash("token.BTC.trade") == hash("token.BTC.trades") {
		t.Fatalf("hash ignores a trailing byte")
	}
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

// TestShardDistribution checks that realistic names spread evenly, and that
// the check has teeth: raw FNV-1a fails it.
//
// The hash's seed is random, so the bounds must hold for any seed: they sit
// about 7 standard deviations out, where a uniform hash fails one of the 30
// checks with a probability far below one in a million. For 10,000 names
// over 16 shards the mean is 625 and a count's standard deviation 24.2
// (3.9%), so ±27% is 7 sigma; over 64 shards sigma is 7.9% (±55%); over 256
// it is 15.8%, where only the chi-square bites. The chi-square bound,
// df + 7*sqrt(2*df), still rejects raw FNV-1a's low bits: 73 over 16 shards
// for the mixed set (bound 53), 573 over 256 for decimal ids (bound 413).
func TestShardDistribution(t *testing.T) {
	rawFailed := false
	for name, names := range channelSets() {
		for _, tc := range []struct {
			shards    int
			tolerance float64
		}{{16, 0.27}, {64, 0.55}, {256, 1.0}} {
			worst, chi2 := distribution(names, tc.shards, func(s string) uint32 { return uint32(hash(s)) })
			df := float64(tc.shards - 1)
			chiMax := df + 7*math.Sqrt(2*df)
			rawWorst, rawChi2 := distribution(names, tc.shards, rawFNV)
			t.Logf("%s over %d shards: worst %.1f%%, chi2 %.0f (raw FNV-1a: %.1f%%, %.0f), bound %.0f",
				name, tc.shards, 100*worst, chi2, 100*rawWorst, rawChi2, chiMax)
			if worst > tc.tolerance {
				t.Errorf("%s over %d shards: a shard is %.1f%% off the mean; want at most %.0f%%",
					name, tc.shards, 100*worst, 100*tc.tolerance)
			}
			if chi2 > chiMax {
				t.Errorf("%s over %d shards: chi-square %.0f; want at most %.0f", name, tc.shards, chi2, chiMax)
			}
			if rawChi2 > chiMax || rawWorst > tc.tolerance {
				rawFailed = true
			}
		}
	}
	if !rawFailed {
		t.Errorf("raw FNV-1a passed every check: the bounds are too loose to catch a hash with weak low bits")
	}
}
