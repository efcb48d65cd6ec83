package main

import (
	"math/rand/v2"
	"strconv"
)

// plan is the deterministic subscription plan: connection i's channels
// depend only on the options and i, so a load process computes its own
// connections' channels and the coordinator computes subscriber counts
// without any exchange. A plan is immutable after newPlan.
type plan struct {
	tokens  int
	dist    string
	perConn int
	user    bool
	seed    uint64
	pop     *popularity // token popularity, for subscriptions and publications
}

func newPlan(o *options) *plan {
	s := 0.0
	if o.Dist == distZipf {
		s = o.ZipfS
	}
	return &plan{tokens: o.Tokens, dist: o.Dist, perConn: o.PerConn, user: o.User, seed: o.Seed,
		pop: newPopularity(max(o.Tokens, 1), s)}
}

// tokenChannel names token rank k (0 is the most popular).
func tokenChannel(k int) string { return "token.T" + strconv.Itoa(k) + ".trade" }

// userChannel names connection i's own channel.
func userChannel(i int) string { return "user." + strconv.Itoa(i) + ".favorites" }

// channels returns connection i's channels.
func (p *plan) channels(i int) []string {
	var out []string
	switch p.dist {
	case distAll:
		for k := range p.tokens {
			out = append(out, tokenChannel(k))
		}
	default:
		r := rand.New(rand.NewPCG(p.seed, uint64(i)))
		for _, k := range p.pop.sampleDistinct(r, p.perConn) {
			out = append(out, tokenChannel(k))
		}
	}
	if p.user {
		out = append(out, userChannel(i))
	}
	return out
}

// subscribers counts, for connections 0..conns-1, the subscribers of each
// channel.
func (p *plan) subscribers(conns int) map[string]int {
	m := make(map[string]int)
	for i := range conns {
		for _, ch := range p.channels(i) {
			m[ch]++
		}
	}
	return m
}
