package index

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
)

// refMatch is the reference matcher: it reports whether the concrete channel
// matches the subscription sub (a channel or a pattern), comparing token by
// token with NATS rules: "*" matches one token, a last ">" one or more.
func refMatch(sub, channel string) bool {
	p, c := strings.Split(sub, "."), strings.Split(channel, ".")
	for i, tok := range p {
		if tok == ">" && i == len(p)-1 {
			return len(c) > i
		}
		if i >= len(c) || (tok != "*" && tok != c[i]) {
			return false
		}
	}
	return len(p) == len(c)
}

// TestRefMatch checks the reference matcher on the cases Matches is
// checked on, so that FuzzMatches compares Matches with a right answer.
func TestRefMatch(t *testing.T) {
	for _, c := range matchCases {
		if got := refMatch(c.sub, c.channel); got != c.want {
			t.Errorf("refMatch(%q, %q) = %v; want %v", c.sub, c.channel, got, c.want)
		}
	}
}

// TestLookupPatterns subscribes one subscriber to each of a set of channels
// and patterns and checks what Lookup finds, cold and from the cache.
func TestLookupPatterns(t *testing.T) {
	subs := []string{
		"token.BTC.trade", "token.*.trade", "token.BTC.>", "token.>", ">", "*",
		"*.BTC.*", "token.*.>", "user.42.favorites", "user.*.favorites", "*.*.*",
	}
	f := newFixture[int](Config{Shards: 4})
	for i, sub := range subs {
		f.sub(sub, i)
	}
	check := func(channel string, want ...string) {
		t.Helper()
		m := f.Lookup(channel)
		exact, pats := f.reach(channel)
		var got []string
		for _, s := range exact {
			got = append(got, subs[s])
		}
		for _, set := range pats {
			if len(set) != 1 {
				t.Fatalf("Lookup(%q): a pattern holds %v; want one subscriber", channel, set)
			}
			got = append(got, subs[set[0]])
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("Lookup(%q) finds %q; want %q", channel, got, want)
		}
		if !slices.IsSortedFunc(m.Patterns(), func(a, b *Channel[int, struct{}]) int { return strings.Compare(a.Name(), b.Name()) }) {
			t.Fatalf("Lookup(%q).Patterns() is not in lock order (by name)", channel)
		}
	}
	for range 2 { // the second round is answered by the match cache
		check("token.BTC.trade", "token.BTC.trade", "token.*.trade", "token.BTC.>", "token.>", ">", "*.BTC.*", "token.*.>", "*.*.*")
		check("token.ETH.trade", "token.*.trade", "token.>", ">", "token.*.>", "*.*.*")
		check("token.BTC", "token.>", ">")
		check("global", ">", "*")
		check("user.42.favorites", "user.42.favorites", "user.*.favorites", ">", "*.*.*")
		check("token.BTC.trade.x", "token.BTC.>", "token.>", ">", "token.*.>")
	}
}

// checkTrie verifies the trie's invariants: every pattern in byName sits at
// the end of its path and nowhere else, no node but the root is empty, each
// pattern has members (unless allowEmpty) without duplicates, and the
// counters agree. Callers must not run writers concurrently.
func checkTrie[S comparable, V any](t *testing.T, ix *Index[S, V], allowEmpty bool) (patterns, subs int) {
	t.Helper()
	tr := &ix.trie
	tr.mu.RLock()
	defer tr.mu.RUnlock()
	found := map[string]*Channel[S, V]{}
	var walk func(n *node[S, V], path []string)
	walk = func(n *node[S, V], path []string) {
		if n != &tr.root && n.empty() {
			t.Fatalf("the trie keeps an empty node at %q", strings.Join(path, "."))
		}
		add := func(p *Channel[S, V], name string) {
			if p.name != name || !p.pattern || p.dead {
				t.Fatalf("pattern %q sits at %q (pattern %v, dead %v)", p.name, name, p.pattern, p.dead)
			}
			if found[name] != nil {
				t.Fatalf("pattern %q is in the trie twice", name)
			}
			found[name] = p
		}
		if n.end != nil {
			add(n.end, strings.Join(path, "."))
		}
		if n.rest != nil {
			add(n.rest, strings.Join(append(slices.Clip(path), ">"), "."))
		}
		for tok, c := range n.lit {
			walk(c, append(slices.Clip(path), tok))
		}
		if n.star != nil {
			walk(n.star, append(slices.Clip(path), "*"))
		}
	}
	walk(&tr.root, nil)
	if len(found) != len(tr.byName) {
		t.Fatalf("the trie holds %d patterns; byName %d", len(found), len(tr.byName))
	}
	busy := 0
	for name, p := range tr.byName {
		if found[name] != p {
			t.Fatalf("byName[%q] is not the pattern the trie holds", name)
		}
		checkMembers(t, p, allowEmpty)
		subs += len(p.members)
		if len(p.members) > 0 {
			busy++
		}
	}
	if int(tr.count.Load()) != len(found) || int(tr.counts.subscriptions.Load()) != subs || int(tr.counts.busy.Load()) != busy {
		t.Fatalf("trie counters say %d patterns (%d busy), %d subscriptions; it holds %d (%d), %d",
			tr.count.Load(), tr.counts.busy.Load(), tr.counts.subscriptions.Load(), len(found), busy, subs)
	}
	return busy, subs
}

// checkMatch checks what a publication to channel reaches against subs,
// the reference contents of the index (subscription -> subscribers): the
// channel's own members, and each matching pattern's, one set per pattern.
func checkMatch(t *testing.T, f *fixture[int], subs map[string]map[int]bool, channel string) {
	t.Helper()
	sorted := func(set map[int]bool) []int {
		var l []int
		for s := range set {
			l = append(l, s)
		}
		slices.Sort(l)
		return l
	}
	var want [][]int
	for sub, set := range subs {
		if len(set) > 0 && IsPattern(sub) && refMatch(sub, channel) {
			want = append(want, sorted(set))
		}
	}
	exact, pats := f.reach(channel)
	if got, want := slices.Sorted(slices.Values(exact)), sorted(subs[channel]); !slices.Equal(got, want) {
		t.Fatalf("reach(%q) exact = %v; want %v", channel, got, want)
	}
	var got [][]int
	for _, set := range pats {
		got = append(got, slices.Sorted(slices.Values(set)))
	}
	cmp := func(a, b []int) int { return slices.Compare(a, b) }
	slices.SortFunc(got, cmp)
	slices.SortFunc(want, cmp)
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("reach(%q) patterns = %v; want %v", channel, got, want)
	}
	if (f.Lookup(channel).Patterns() == nil) != (len(want) == 0) {
		t.Fatalf("Lookup(%q).Patterns() = %#v; want nil exactly when no pattern matches", channel, f.Lookup(channel).Patterns())
	}
}

// tokens is the small alphabet random channels and patterns are made of, so
// that they often match.
var tokens = []string{"a", "b", "BTC", "trade"}

func randChannel(r *rand.Rand) string {
	n := 1 + r.IntN(4)
	parts := make([]string, n)
	for i := range parts {
		parts[i] = tokens[r.IntN(len(tokens))]
	}
	return strings.Join(parts, ".")
}

// randSub returns a random pattern, or now and then a concrete channel.
func randSub(r *rand.Rand) string {
	n := 1 + r.IntN(4)
	parts := make([]string, n)
	for i := range parts {
		switch x := r.IntN(10); {
		case x < 3:
			parts[i] = "*"
		case x < 5 && i == n-1:
			parts[i] = ">"
		default:
			parts[i] = tokens[r.IntN(len(tokens))]
		}
	}
	return strings.Join(parts, ".")
}

// TestMatchProperty checks Lookup against the reference matcher over random
// subscriptions and channels, with a match cache small enough that channels
// keep evicting each other.
func TestMatchProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for round := range 200 {
		f := newFixture[int](Config{Shards: 4, MatchCacheSize: 1 << r.IntN(4)})
		subs := map[string]map[int]bool{}
		for range 1 + r.IntN(30) {
			sub, s := randSub(r), r.IntN(8)
			if !ValidPattern(sub) {
				t.Fatalf("test bug: %q is not a valid pattern", sub)
			}
			if subs[sub] == nil {
				subs[sub] = map[int]bool{}
			}
			if got, want := f.sub(sub, s), !subs[sub][s]; got != want {
				t.Fatalf("round %d: sub(%q, %d) = %v; want %v", round, sub, s, got, want)
			}
			subs[sub][s] = true
			if r.IntN(4) == 0 { // take one away again now and then
				for sub, set := range subs {
					for s := range set {
						if !f.unsub(sub, s) {
							t.Fatalf("round %d: unsub(%q, %d) = false", round, sub, s)
						}
						delete(set, s)
						break
					}
					break
				}
			}
			for range 5 {
				checkMatch(t, f, subs, randChannel(r))
			}
		}
		checkShards(t, f.Index, false)
	}
}

// TestMatchCacheInvalidation checks that adding or dropping a pattern is
// seen by the next Lookup, and that member changes, which need no new
// answer, leave it cached.
func TestMatchCacheInvalidation(t *testing.T) {
	f := newFixture[int](Config{Shards: 4})
	const ch = "token.BTC.trade"
	misses := func() uint64 { return f.trie.misses.Load() }
	want := func(want ...int) {
		t.Helper()
		var got []int
		_, pats := f.reach(ch)
		for _, set := range pats {
			got = append(got, set...)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("reach(%q) finds %v through patterns; want %v", ch, got, want)
		}
	}
	hit := func(what string) {
		t.Helper()
		before := misses()
		f.Lookup(ch)
		if misses() != before {
			t.Fatalf("after %s, Lookup(%q) missed the match cache", what, ch)
		}
	}

	f.sub("user.>", 1)
	want() // a cached miss: no pattern matches
	hit("a cached miss")
	f.sub("token.*.trade", 2) // a new pattern: generation
	want(2)
	hit("a new pattern")
	f.sub("token.*.trade", 3) // a new member: the cached answer holds
	want(2, 3)
	hit("a new member of a matching pattern")
	f.sub("user.>", 4) // a pattern that does not match ch
	hit("a change to a pattern that does not match")
	f.sub("token.BTC.>", 5)
	want(2, 3, 5)
	f.unsub("token.*.trade", 2)
	want(3, 5)
	f.unsub("token.*.trade", 3) // the pattern is dropped
	want(5)
	f.unsub("token.BTC.>", 5) // the last pattern that matches ch
	want()
	f.unsub("user.>", 1)
	f.unsub("user.>", 4)
	if f.Patterns() != 0 {
		t.Fatalf("Patterns() = %d; want 0", f.Patterns())
	}
	if m := f.Lookup(ch); m.Patterns() != nil {
		t.Fatalf("with no pattern subscribed, Lookup(%q).Patterns() = %v; want nil", ch, m.Patterns())
	}
	f.sub(">", 6) // after the cache emptied
	want(6)
	checkShards(t, f.Index, false)
}

func TestLookupAllocsWithPatterns(t *testing.T) {
	f := newFixture[*int](Config{})
	for range 100 {
		f.sub("token.*.trade", new(int))
		f.sub("token.BTC.>", new(int))
		f.sub("token.BTC.trade", new(int))
	}
	check := func(channel string, wantPatterns int) {
		t.Helper()
		f.Lookup(channel) // fill the cache
		var m Match[*int, struct{}]
		if allocs := testing.AllocsPerRun(1000, func() { m = f.Lookup(channel) }); allocs != 0 {
			t.Fatalf("Lookup(%q) from the cache allocates %v times per run; want 0", channel, allocs)
		}
		if len(m.Patterns()) != wantPatterns {
			t.Fatalf("Lookup(%q) matches %d patterns; want %d", channel, len(m.Patterns()), wantPatterns)
		}
	}
	check("token.BTC.trade", 2)
	check("token.ETH.trade", 1)
	check("user.7.favorites", 0)
}

func TestPatternCounts(t *testing.T) {
	f := newFixture[int](Config{Shards: 4})
	f.sub("token.BTC.trade", 1)
	f.sub("token.*.trade", 1)
	f.sub("token.*.trade", 2)
	f.sub("token.BTC.>", 1)
	check := func(channels, subscriptions, patterns int) {
		t.Helper()
		if f.Channels() != channels || f.Subscriptions() != subscriptions || f.Patterns() != patterns {
			t.Fatalf("Channels(), Subscriptions(), Patterns() = %d, %d, %d; want %d, %d, %d",
				f.Channels(), f.Subscriptions(), f.Patterns(), channels, subscriptions, patterns)
		}
		checkShards(t, f.Index, false)
	}
	check(3, 4, 2)
	for _, name := range []string{"token.BTC.trade", "token.*.trade", "token.BTC.>"} {
		f.unsub(name, 1)
	}
	check(1, 1, 1)
	f.unsub("token.*.trade", 2)
	check(0, 0, 0)
	if !f.trie.root.empty() {
		t.Fatalf("the trie keeps nodes after every pattern left: %+v", f.trie.root)
	}
}

// TestConcurrentPatterns runs pattern and channel churn against publishers;
// run it with -race. Each publisher also subscribes a pattern of its own
// and checks that its next Lookup reaches it and, once it unsubscribed,
// does not: a subscribe that returned is seen by every later publication.
func TestConcurrentPatterns(t *testing.T) {
	const (
		writers  = 3
		readers  = 3
		channels = 16
	)
	iterations := 3000
	if testing.Short() {
		iterations = 300
	}
	subsList := []string{"token.*.trade", "token.>", "token.1.>", "*.*.trade", ">", "token.*.*", "user.*", "token.1.trade", "token.2.trade"}
	names := make([]string, channels)
	for i := range names {
		names[i] = fmt.Sprintf("token.%d.%s", i%4, events[i%len(events)])
	}
	ix := NewWith[*int, struct{}](Config{Shards: 4, MatchCacheSize: 8})
	join := func(name string, s *int) *Sub[*int, struct{}] {
		ch := ix.Acquire(name)
		defer ch.Unlock()
		return ch.Add(s)
	}

	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 11))
			type client struct {
				id   *int
				held map[string]*Sub[*int, struct{}]
			}
			clients := make([]client, 6)
			for i := range clients {
				clients[i] = client{new(int), map[string]*Sub[*int, struct{}]{}}
			}
			for range iterations {
				c, sub := &clients[r.IntN(len(clients))], subsList[r.IntN(len(subsList))]
				switch op := r.IntN(20); {
				case op < 10:
					if c.held[sub] == nil {
						c.held[sub] = join(sub, c.id)
					}
				case op < 19:
					if h := c.held[sub]; h != nil {
						delete(c.held, sub)
						leave(ix, h)
					}
				default:
					for _, h := range c.held {
						leave(ix, h)
					}
					*c = client{new(int), map[string]*Sub[*int, struct{}]{}}
				}
			}
			for _, c := range clients {
				for _, h := range c.held {
					leave(ix, h)
				}
			}
		})
	}

	stop := make(chan struct{})
	var rg sync.WaitGroup
	for rd := range readers {
		rg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(rd), 13))
			me := new(int)
			mine := fmt.Sprintf("token.%d.>", rd%4)
			reaches := func(channel string) bool {
				for _, p := range ix.Lookup(channel).Patterns() {
					p.RLock()
					found := slices.Contains(p.Members(), me)
					p.RUnlock()
					if found {
						return true
					}
				}
				return false
			}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ch := names[r.IntN(channels)]
				for _, p := range ix.Lookup(ch).Patterns() {
					p.RLock()
					seen := map[*int]bool{}
					for _, s := range p.Members() {
						if s == nil || seen[s] {
							t.Errorf("pattern %q holds a nil or repeated member", p.Name())
						}
						seen[s] = true
					}
					p.RUnlock()
				}
				if i%8 == 0 {
					target := fmt.Sprintf("token.%d.trade", rd%4)
					h := join(mine, me)
					if !reaches(target) {
						t.Errorf("a publication to %q right after subscribing %q misses the subscriber", target, mine)
						return
					}
					leave(ix, h)
					if reaches(target) {
						t.Errorf("a publication to %q right after unsubscribing %q still reaches the subscriber", target, mine)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	rg.Wait()
	checkAllLeft(t, ix)
}
