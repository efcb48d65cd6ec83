package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func TestPopularityDistribution(t *testing.T) {
	for _, c := range []struct {
		n int
		s float64 // 0: uniform
	}{{100, 1.0}, {1000, 1.0}, {50, 1.5}, {20, 0}} {
		t.Run(fmt.Sprintf("n=%d,s=%v", c.n, c.s), func(t *testing.T) { checkPopularity(t, c.n, c.s) })
	}

	one := newPopularity(1, 1)
	r := rand.New(rand.NewPCG(1, 1))
	if one.prob(0) != 1 || one.sample(r) != 0 {
		t.Fatal("a single rank must always be drawn")
	}
}

// checkPopularity checks newPopularity(n, s) against the closed form and
// by drawing from it.
func checkPopularity(t *testing.T, n int, s float64) {
	p := newPopularity(n, s)
	sum := 0.0
	for k := range n {
		sum += p.prob(k)
	}
	if math.Abs(sum-1) > 1e-9 {
		t.Fatalf("probabilities sum to %v", sum)
	}
	// The closed form: P(k) = (k+1)^-s / H(n, s).
	h := 0.0
	for k := 1; k <= n; k++ {
		h += math.Pow(float64(k), -s)
	}
	for _, k := range []int{0, 1, n / 2, n - 1} {
		want := math.Pow(float64(k+1), -s) / h
		if got := p.prob(k); math.Abs(got-want) > 1e-12 {
			t.Fatalf("P(%d) = %v; want %v", k, got, want)
		}
	}
	// Draw and compare with a chi-square test (df = n-1; the bound is
	// far in the tail, and the seed is fixed, so the test is stable).
	const draws = 200_000
	r := rand.New(rand.NewPCG(1, 2))
	counts := make([]int, n)
	for range draws {
		counts[p.sample(r)]++
	}
	chi := 0.0
	for k, c := range counts {
		e := draws * p.prob(k)
		chi += (float64(c) - e) * (float64(c) - e) / e
	}
	df := float64(n - 1)
	if limit := df + 6*math.Sqrt(2*df); chi > limit {
		t.Fatalf("chi-square %.1f over %.1f", chi, limit)
	}
	// The head, where zipf matters most: within 5 sigma.
	for k := range min(n, 5) {
		e := draws * p.prob(k)
		sigma := math.Sqrt(e * (1 - p.prob(k)))
		if math.Abs(float64(counts[k])-e) > 5*sigma {
			t.Fatalf("rank %d drawn %d times; want %.0f ± %.0f", k, counts[k], e, 5*sigma)
		}
	}
}

func TestPopularityZipfShape(t *testing.T) {
	p := newPopularity(1000, 1.0)
	// With s = 1 rank 1 is twice as popular as rank 2, ten times rank 10.
	if r := p.prob(0) / p.prob(1); math.Abs(r-2) > 1e-9 {
		t.Fatalf("P(0)/P(1) = %v; want 2", r)
	}
	if r := p.prob(0) / p.prob(9); math.Abs(r-10) > 1e-9 {
		t.Fatalf("P(0)/P(9) = %v; want 10", r)
	}
	u := newPopularity(10, 0)
	for k := range 10 {
		if math.Abs(u.prob(k)-0.1) > 1e-12 {
			t.Fatalf("uniform P(%d) = %v", k, u.prob(k))
		}
	}
}

func TestSampleDistinct(t *testing.T) {
	p := newPopularity(10, 1.2)
	r := rand.New(rand.NewPCG(3, 4))
	for range 1000 {
		got := p.sampleDistinct(r, 3)
		if len(got) != 3 {
			t.Fatalf("got %d ranks; want 3", len(got))
		}
		if got[0] == got[1] || got[0] == got[2] || got[1] == got[2] {
			t.Fatalf("ranks not distinct: %v", got)
		}
	}
	if got := p.sampleDistinct(r, 20); len(got) != 10 {
		t.Fatalf("asking for more ranks than exist gave %d; want all 10", len(got))
	}
}

func TestPlanDeterministic(t *testing.T) {
	o := defaults()
	o.Tokens, o.Dist, o.PerConn, o.User, o.Seed = 1000, distZipf, 3, true, 7
	a, b := newPlan(o), newPlan(o)
	for i := range 100 {
		ca, cb := a.channels(i), b.channels(i)
		if len(ca) != 4 || len(cb) != 4 {
			t.Fatalf("conn %d: %d and %d channels; want 4", i, len(ca), len(cb))
		}
		for j := range ca {
			if ca[j] != cb[j] {
				t.Fatalf("conn %d: plans differ: %v vs %v", i, ca, cb)
			}
		}
		if ca[3] != userChannel(i) {
			t.Fatalf("conn %d: last channel %q; want its user channel", i, ca[3])
		}
	}
	subs := a.subscribers(1000)
	total := 0
	for _, n := range subs {
		total += n
	}
	if total != 4000 {
		t.Fatalf("subscriptions = %d; want 4000", total)
	}
	if subs[tokenChannel(0)] < subs[tokenChannel(500)] {
		t.Fatalf("rank 0 has %d subscribers, rank 500 %d: zipf should favour rank 0", subs[tokenChannel(0)], subs[tokenChannel(500)])
	}

	o.Dist, o.Tokens, o.User = distAll, 5, false
	all := newPlan(o)
	if got := all.channels(42); len(got) != 5 || got[0] != "token.T0.trade" || got[4] != "token.T4.trade" {
		t.Fatalf("dist all: %v", got)
	}
}
