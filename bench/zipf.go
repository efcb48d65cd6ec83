package main

import (
	"math"
	"math/rand/v2"
	"sort"
)

// popularity draws ranks 0..n-1 with probability proportional to
// 1/(rank+1)^s: zipf for s > 0, uniform for s == 0. Any s >= 0 works
// (math/rand's Zipf needs s > 1, and token popularity is nearer 1).
// A popularity is immutable; sample may be called concurrently with
// distinct *rand.Rand values.
type popularity struct {
	cdf []float64 // cdf[k] = P(rank <= k); cdf[n-1] == 1
}

// newPopularity returns the distribution over n ranks with exponent s.
func newPopularity(n int, s float64) *popularity {
	cdf := make([]float64, n)
	sum := 0.0
	for k := range n {
		sum += math.Pow(float64(k+1), -s)
		cdf[k] = sum
	}
	for k := range cdf {
		cdf[k] /= sum
	}
	if n > 0 {
		cdf[n-1] = 1
	}
	return &popularity{cdf: cdf}
}

// n is the number of ranks.
func (p *popularity) n() int { return len(p.cdf) }

// prob returns P(rank == k).
func (p *popularity) prob(k int) float64 {
	if k == 0 {
		return p.cdf[0]
	}
	return p.cdf[k] - p.cdf[k-1]
}

// sample draws one rank.
func (p *popularity) sample(r *rand.Rand) int {
	u := r.Float64()
	k := sort.SearchFloat64s(p.cdf, u)
	// SearchFloat64s finds the first cdf[k] >= u; u == cdf[k] belongs to k+1
	// only in measure zero, so this is exact enough.
	if k >= len(p.cdf) {
		k = len(p.cdf) - 1
	}
	return k
}

// sampleDistinct draws m distinct ranks (m <= n), each by popularity
// among those not yet drawn (rejection of repeats).
func (p *popularity) sampleDistinct(r *rand.Rand, m int) []int {
	if m > len(p.cdf) {
		m = len(p.cdf)
	}
	out := make([]int, 0, m)
	for len(out) < m {
		k := p.sample(r)
		dup := false
		for _, x := range out {
			if x == k {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, k)
		}
	}
	return out
}
