package index

import (
	"fmt"
	"math/rand/v2"
	"runtime"
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

func TestRefMatch(t *testing.T) {
	f := func(sub, channel string, want bool) {
		t.Helper()
		if got := refMatch(sub, channel); got != want {
			t.Fatalf("refMatch(%q, %q) = %v; want %v", sub, channel, got, want)
		}
	}
	f("token.BTC.trade", "token.BTC.trade", true)
	f("token.BTC.trade", "token.ETH.trade", false)
	f("token.*.trade", "token.BTC.trade", true)
	f("token.*.trade", "token.BTC.liquidity", false)
	f("token.*.trade", "token.trade", false)
	f("token.*", "token.BTC.trade", false)
	f("token.BTC.>", "token.BTC.trade", true)
	f("token.BTC.>", "token.BTC.trade.x", true)
	f("token.BTC.>", "token.BTC", false)
	f(">", "global", true)
	f(">", "a.b.c", true)
	f("*", "global", true)
	f("*", "a.b", false)
	f("*.>", "a", false)
	f("*.>", "a.b", true)
	f("*.*.*", "a.b.c", true)
	f("*.*.*", "a.b", false)
}

// TestLookupPatterns subscribes one subscriber to each of a set of channels
// and patterns and checks what Lookup finds, cold and from the cache.
func TestLookupPatterns(t *testing.T) {
	subs := []string{
		"token.BTC.trade", "token.*.trade", "token.BTC.>", "token.>", ">", "*",
		"*.BTC.*", "token.*.>", "user.42.favorites", "user.*.favorites", "*.*.*",
	}
	ix := New[int](4)
	for i, sub := range subs {
		ix.Subscribe(sub, i)
	}
	f := func(channel string, want ...string) {
		t.Helper()
		m := ix.Lookup(channel)
		var got []string
		for _, s := range m.Exact {
			got = append(got, subs[s])
		}
		for _, snap := range m.Patterns() {
			if len(snap) != 1 {
				t.Fatalf("Lookup(%q): a pattern snapshot holds %v; want one subscriber", channel, snap)
			}
			got = append(got, subs[snap[0]])
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("Lookup(%q) finds %q; want %q", channel, got, want)
		}
		if m.Len() != len(want) {
			t.Fatalf("Lookup(%q).Len() = %d; want %d", channel, m.Len(), len(want))
		}
	}
	for range 2 { // the second round is answered by the match cache
		f("token.BTC.trade", "token.BTC.trade", "token.*.trade", "token.BTC.>", "token.>", ">", "*.BTC.*", "token.*.>", "*.*.*")
		f("token.ETH.trade", "token.*.trade", "token.>", ">", "token.*.>", "*.*.*")
		f("token.BTC", "token.>", ">")
		f("global", ">", "*")
		f("user.42.favorites", "user.42.favorites", "user.*.favorites", ">", "*.*.*")
		f("token.BTC.trade.x", "token.BTC.>", "token.>", ">", "token.*.>")
	}
}

// checkTrie verifies the trie's invariants: every pattern in byName sits at
// the end of its path and nowhere else, no node but the root is empty, each
// pattern has subscribers without duplicates, and the counters agree.
// Callers must not run writers concurrently.
func checkTrie[S comparable](t *testing.T, ix *Index[S]) (patterns, subs int) {
	t.Helper()
	tr := &ix.trie
	tr.mu.RLock()
	defer tr.mu.RUnlock()
	found := map[string]*pattern[S]{}
	var walk func(n *node[S], path []string)
	walk = func(n *node[S], path []string) {
		if n != &tr.root && n.empty() {
			t.Fatalf("the trie keeps an empty node at %q", strings.Join(path, "."))
		}
		add := func(p *pattern[S], name string) {
			if p.name != name {
				t.Fatalf("pattern %q sits at %q", p.name, name)
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
	for name, p := range tr.byName {
		if found[name] != p {
			t.Fatalf("byName[%q] is not the pattern the trie holds", name)
		}
		if len(p.subs) == 0 {
			t.Fatalf("pattern %q has no subscribers", name)
		}
		seen := map[S]bool{}
		for _, s := range p.subs {
			if seen[s] {
				t.Fatalf("pattern %q lists %v twice", name, s)
			}
			seen[s] = true
		}
		subs += len(p.subs)
	}
	if int(tr.count.Load()) != len(found) || int(tr.subscriptions.Load()) != subs {
		t.Fatalf("trie counters say %d patterns, %d subscriptions; it holds %d, %d",
			tr.count.Load(), tr.subscriptions.Load(), len(found), subs)
	}
	return len(found), subs
}

// checkMatch checks Lookup(channel) against subs, the reference contents of
// the index (subscription -> subscribers): Exact must be the channel's own
// subscribers and Patterns the subscribers of each matching pattern, one
// snapshot per pattern.
func checkMatch(t *testing.T, ix *Index[int], subs map[string]map[int]bool, channel string) Match[int] {
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
	m := ix.Lookup(channel)
	if got, want := slices.Sorted(slices.Values(m.Exact)), sorted(subs[channel]); !slices.Equal(got, want) {
		t.Fatalf("Lookup(%q).Exact = %v; want %v", channel, got, want)
	}
	var got [][]int
	for _, snap := range m.Patterns() {
		got = append(got, slices.Sorted(slices.Values(snap)))
	}
	cmp := func(a, b []int) int { return slices.Compare(a, b) }
	slices.SortFunc(got, cmp)
	slices.SortFunc(want, cmp)
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("Lookup(%q).Patterns() = %v; want %v", channel, got, want)
	}
	if (m.Patterns() == nil) != (len(want) == 0) {
		t.Fatalf("Lookup(%q).Patterns() = %#v; want nil exactly when no pattern matches", channel, m.Patterns())
	}
	return m
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
		ix := NewWith[int](Config{Shards: 4, MatchCacheSize: 1 << r.IntN(4)})
		subs := map[string]map[int]bool{}
		for range 1 + r.IntN(30) {
			sub, s := randSub(r), r.IntN(8)
			if !ValidPattern(sub) {
				t.Fatalf("test bug: %q is not a valid pattern", sub)
			}
			if subs[sub] == nil {
				subs[sub] = map[int]bool{}
			}
			if got, want := ix.Subscribe(sub, s), !subs[sub][s]; got != want {
				t.Fatalf("round %d: Subscribe(%q, %d) = %v; want %v", round, sub, s, got, want)
			}
			subs[sub][s] = true
			if r.IntN(4) == 0 { // take one away again now and then
				for sub, set := range subs {
					for s := range set {
						if !ix.Unsubscribe(sub, s) {
							t.Fatalf("round %d: Unsubscribe(%q, %d) = false", round, sub, s)
						}
						delete(set, s)
						break
					}
					break
				}
			}
			for range 5 {
				checkMatch(t, ix, subs, randChannel(r))
			}
		}
		checkShards(t, ix)
	}
}

// TestMatchCacheInvalidation checks that every change that affects a cached
// answer is seen by the next Lookup, and that changes which do not affect it
// leave it cached.
func TestMatchCacheInvalidation(t *testing.T) {
	ix := New[int](4)
	const ch = "token.BTC.trade"
	misses := func() uint64 { return ix.trie.misses.Load() }
	f := func(want ...int) {
		t.Helper()
		var got []int
		for _, snap := range ix.Lookup(ch).Patterns() {
			got = append(got, snap...)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("Lookup(%q) finds %v through patterns; want %v", ch, got, want)
		}
	}
	hit := func(what string) {
		t.Helper()
		before := misses()
		ix.Lookup(ch)
		if misses() != before {
			t.Fatalf("after %s, Lookup(%q) missed the match cache", what, ch)
		}
	}

	ix.Subscribe("user.>", 1)
	f() // a cached miss: no pattern matches
	hit("a cached miss")
	ix.Subscribe("token.*.trade", 2) // a new pattern: generation
	f(2)
	hit("a new pattern")
	ix.Subscribe("token.*.trade", 3) // a new subscriber: the pattern's version
	f(2, 3)
	ix.Subscribe("user.>", 4) // a pattern that does not match ch
	hit("a change to a pattern that does not match")
	ix.Subscribe("token.BTC.>", 5)
	f(2, 3, 5)
	ix.Unsubscribe("token.*.trade", 2)
	f(3, 5)
	ix.RemoveAll(3, []string{"token.*.trade", "token.ETH.trade"})
	f(5)
	ix.Unsubscribe("token.BTC.>", 5) // the last pattern that matches ch
	f()
	ix.RemoveAll(1, []string{"user.>"})
	ix.RemoveAll(4, []string{"user.>"})
	if ix.Patterns() != 0 {
		t.Fatalf("Patterns() = %d; want 0", ix.Patterns())
	}
	if m := ix.Lookup(ch); m.Patterns() != nil {
		t.Fatalf("with no pattern subscribed, Lookup(%q).Patterns() = %v; want nil", ch, m.Patterns())
	}
	ix.Subscribe(">", 6) // after the cache emptied
	f(6)
	checkShards(t, ix)
}

func TestLookupAllocsWithPatterns(t *testing.T) {
	ix := New[*int](DefaultShards)
	for range 100 {
		ix.Subscribe("token.*.trade", new(int))
		ix.Subscribe("token.BTC.>", new(int))
		ix.Subscribe("token.BTC.trade", new(int))
	}
	f := func(channel string, want int) {
		t.Helper()
		ix.Lookup(channel) // fill the cache
		var m Match[*int]
		allocs := testing.AllocsPerRun(1000, func() { m = ix.Lookup(channel) })
		if allocs != 0 {
			t.Fatalf("Lookup(%q) from the cache allocates %v times per run; want 0", channel, allocs)
		}
		if m.Len() != want {
			t.Fatalf("Lookup(%q).Len() = %d; want %d", channel, m.Len(), want)
		}
	}
	f("token.BTC.trade", 300)
	f("token.ETH.trade", 100)
	f("user.7.favorites", 0)
}

func TestPatternCounts(t *testing.T) {
	ix := New[int](4)
	ix.Subscribe("token.BTC.trade", 1)
	ix.Subscribe("token.*.trade", 1)
	ix.Subscribe("token.*.trade", 2)
	ix.Subscribe("token.BTC.>", 1)
	f := func(channels, subscriptions, patterns int) {
		t.Helper()
		if ix.Channels() != channels || ix.Subscriptions() != subscriptions || ix.Patterns() != patterns {
			t.Fatalf("Channels(), Subscriptions(), Patterns() = %d, %d, %d; want %d, %d, %d",
				ix.Channels(), ix.Subscriptions(), ix.Patterns(), channels, subscriptions, patterns)
		}
		checkShards(t, ix)
	}
	f(3, 4, 2)
	if got := ix.RemoveAll(1, []string{"token.BTC.trade", "token.*.trade", "token.BTC.>", "token.ETH.>"}); got != 3 {
		t.Fatalf("RemoveAll = %d; want 3", got)
	}
	f(1, 1, 1)
	ix.Unsubscribe("token.*.trade", 2)
	f(0, 0, 0)
	if !ix.trie.root.empty() {
		t.Fatalf("the trie keeps nodes after every pattern left: %+v", ix.trie.root)
	}
}

// TestConcurrentPatterns runs pattern and channel churn against readers;
// run it with -race. Each reader also subscribes a pattern of its own and
// checks that its next Lookup sees it and, once it unsubscribed, does not:
// a Subscribe that returned is visible to every later Lookup.
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
	ix := NewWith[*int](Config{Shards: 4, MatchCacheSize: 8})

	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 11))
			type client struct {
				id   *int
				subs map[string]bool
			}
			clients := make([]client, 6)
			for i := range clients {
				clients[i] = client{new(int), map[string]bool{}}
			}
			list := func(c client) []string {
				return slices.Collect(func(yield func(string) bool) {
					for s := range c.subs {
						if !yield(s) {
							return
						}
					}
				})
			}
			for range iterations {
				c, sub := &clients[r.IntN(len(clients))], subsList[r.IntN(len(subsList))]
				switch op := r.IntN(20); {
				case op < 10:
					if ix.Subscribe(sub, c.id) == c.subs[sub] {
						t.Errorf("Subscribe(%q) disagrees with the client's list", sub)
						return
					}
					c.subs[sub] = true
				case op < 19:
					if ix.Unsubscribe(sub, c.id) != c.subs[sub] {
						t.Errorf("Unsubscribe(%q) disagrees with the client's list", sub)
						return
					}
					delete(c.subs, sub)
				default:
					if got, want := ix.RemoveAll(c.id, list(*c)), len(c.subs); got != want {
						t.Errorf("RemoveAll = %d; want %d", got, want)
						return
					}
					*c = client{new(int), map[string]bool{}}
				}
			}
			for _, c := range clients {
				if got, want := ix.RemoveAll(c.id, list(c)), len(c.subs); got != want {
					t.Errorf("final RemoveAll = %d; want %d", got, want)
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
			has := func(m Match[*int]) bool {
				for _, snap := range m.Patterns() {
					if slices.Contains(snap, me) {
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
				m := ix.Lookup(ch)
				saved := make([][]*int, len(m.Patterns()))
				for i, snap := range m.Patterns() {
					saved[i] = slices.Clone(snap)
				}
				exact := slices.Clone(m.Exact)
				runtime.Gosched() // let writers replace the snapshots meanwhile
				for i, snap := range m.Patterns() {
					seen := map[*int]bool{}
					for _, s := range snap {
						if s == nil || seen[s] {
							t.Errorf("a pattern snapshot for %q holds a nil or repeated subscriber", ch)
							return
						}
						seen[s] = true
					}
					if !slices.Equal(snap, saved[i]) {
						t.Errorf("a pattern snapshot for %q changed under its reader", ch)
						return
					}
				}
				if !slices.Equal(m.Exact, exact) {
					t.Errorf("the exact snapshot of %q changed under its reader", ch)
					return
				}
				if i%8 == 0 {
					target := fmt.Sprintf("token.%d.trade", rd%4)
					ix.Subscribe(mine, me)
					if !has(ix.Lookup(target)) {
						t.Errorf("Lookup(%q) right after Subscribe(%q) misses the subscriber", target, mine)
						return
					}
					ix.Unsubscribe(mine, me)
					if has(ix.Lookup(target)) {
						t.Errorf("Lookup(%q) right after Unsubscribe(%q) still finds the subscriber", target, mine)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	rg.Wait()

	if ix.Channels() != 0 || ix.Subscriptions() != 0 || ix.Patterns() != 0 {
		t.Fatalf("after every client left: Channels(), Subscriptions(), Patterns() = %d, %d, %d; want 0, 0, 0",
			ix.Channels(), ix.Subscriptions(), ix.Patterns())
	}
	if !ix.trie.root.empty() {
		t.Fatalf("after every client left, the trie keeps nodes")
	}
	checkShards(t, ix)
}
