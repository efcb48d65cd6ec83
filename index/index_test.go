package index

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"unsafe"
	"wsfan/lib/cacheline"
)

// fixture drives an index as its callers do: it keeps each member's
// handles, adds and removes under the channel's lock, and drops a channel
// that loses its last member. Not safe for concurrent use.
type fixture[S comparable] struct {
	*Index[S, struct{}]
	held map[S]map[string]*Sub[S, struct{}]
}

func newFixture[S comparable](cfg Config) *fixture[S] {
	return &fixture[S]{NewWith[S, struct{}](cfg), map[S]map[string]*Sub[S, struct{}]{}}
}

// sub subscribes s to name and reports whether it was new.
func (f *fixture[S]) sub(name string, s S) bool {
	if f.held[s][name] != nil {
		return false
	}
	ch := f.Acquire(name)
	h := ch.Add(s)
	ch.Unlock()
	if f.held[s] == nil {
		f.held[s] = map[string]*Sub[S, struct{}]{}
	}
	f.held[s][name] = h
	return true
}

// unsub unsubscribes s from name and reports whether it was subscribed.
func (f *fixture[S]) unsub(name string, s S) bool {
	h := f.held[s][name]
	if h == nil {
		return false
	}
	delete(f.held[s], name)
	leave(f.Index, h)
	return true
}

// leave removes h's member and drops its channel when it is left empty.
func leave[S comparable](ix *Index[S, struct{}], h *Sub[S, struct{}]) {
	ch := h.Channel()
	ch.Lock()
	ch.Remove(h)
	if ch.Len() == 0 {
		ix.Drop(ch)
	}
	ch.Unlock()
}

// reach returns copies of the members a publication to channel reaches:
// the channel's and each matching pattern's, read under their locks.
func (f *fixture[S]) reach(channel string) (exact []S, patterns [][]S) {
	m := f.Lookup(channel)
	if ch := m.Channel; ch != nil {
		ch.RLock()
		exact = slices.Clone(ch.Members())
		ch.RUnlock()
	}
	for _, p := range m.Patterns() {
		p.RLock()
		patterns = append(patterns, slices.Clone(p.Members()))
		p.RUnlock()
	}
	return exact, patterns
}

// checkAllLeft checks the index once every client has left: no channel,
// subscription, entry or pattern, no trie node, and shards that agree with
// their tables.
func checkAllLeft[S comparable, V any](t *testing.T, ix *Index[S, V]) {
	t.Helper()
	if ix.Channels() != 0 || ix.Subscriptions() != 0 || ix.Entries() != 0 || ix.Patterns() != 0 {
		t.Fatalf("after every client left: Channels, Subscriptions, Entries, Patterns = %d, %d, %d, %d; want 0",
			ix.Channels(), ix.Subscriptions(), ix.Entries(), ix.Patterns())
	}
	if !ix.trie.root.empty() {
		t.Fatalf("after every client left, the trie keeps nodes")
	}
	checkShards(t, ix, false)
}

// checkShards verifies the index's internal invariants: every entry is in
// the shard its name hashes to, findable through its table, without
// duplicate members, with handles that point at their members; the tables'
// counts hold; the counters agree with the tables and the trie (checkTrie).
// Empty entries are allowed when allowEmpty. Callers must not run writers
// concurrently.
func checkShards[S comparable, V any](t *testing.T, ix *Index[S, V], allowEmpty bool) {
	t.Helper()
	channels, subs := 0, 0
	for i := range ix.shards {
		sh := &ix.shards[i]
		sh.mu.Lock()
		tb := sh.table.Load()
		shardChannels, shardSubs, live, used := 0, 0, 0, 0
		for j := range tb.slots {
			e := tb.slots[j].Load()
			if e != nil {
				used++
			}
			if e == nil || e == tb.tomb {
				continue
			}
			live++
			if got := ix.ShardOf(e.name); got != i {
				t.Fatalf("channel %q is in shard %d; it hashes to %d", e.name, i, got)
			}
			if e.hash != hash(e.name) || e.dead || e.pattern {
				t.Fatalf("channel %q: hash %v, dead %v, pattern %v", e.name, e.hash == hash(e.name), e.dead, e.pattern)
			}
			if got := tb.get(e.hash, e.name); got != e {
				t.Fatalf("channel %q: the table's own probe does not find its entry", e.name)
			}
			checkMembers(t, e, allowEmpty)
			if len(e.members) > 0 {
				shardChannels++
			}
			shardSubs += len(e.members)
		}
		if tb.live != live || tb.used != used || 2*tb.used > len(tb.slots) {
			t.Fatalf("shard %d: table counts %d live, %d used of %d slots; it holds %d live, %d used",
				i, tb.live, tb.used, len(tb.slots), live, used)
		}
		sh.mu.Unlock()
		if st := ix.ShardStats(i); st.Channels != shardChannels || st.Subscriptions != shardSubs {
			t.Fatalf("ShardStats(%d) says %d channels, %d subscriptions; the shard holds %d, %d",
				i, st.Channels, st.Subscriptions, shardChannels, shardSubs)
		}
		channels += shardChannels
		subs += shardSubs
	}
	patterns, patternSubs := checkTrie(t, ix, allowEmpty)
	channels += patterns
	subs += patternSubs
	if ix.Channels() != channels || ix.Subscriptions() != subs {
		t.Fatalf("Channels(), Subscriptions() = %d, %d; the shards and the trie hold %d, %d",
			ix.Channels(), ix.Subscriptions(), channels, subs)
	}
}

// checkMembers checks e's members and handles.
func checkMembers[S comparable, V any](t *testing.T, e *Channel[S, V], allowEmpty bool) {
	t.Helper()
	if len(e.members) == 0 && !allowEmpty {
		t.Fatalf("%q holds no member", e.name)
	}
	if len(e.handles) != len(e.members) {
		t.Fatalf("%q: %d handles for %d members", e.name, len(e.handles), len(e.members))
	}
	seen := make(map[S]bool, len(e.members))
	for k, s := range e.members {
		if seen[s] {
			t.Fatalf("%q lists %v twice", e.name, s)
		}
		seen[s] = true
		if h := e.handles[k]; h.ch != e || h.i != k {
			t.Fatalf("%q: member %d's handle says channel %q, index %d", e.name, k, h.ch.name, h.i)
		}
	}
}

func TestNew(t *testing.T) {
	f := func(shards, want int) {
		t.Helper()
		if got := New[int, struct{}](shards).Shards(); got != want {
			t.Fatalf("New(%d).Shards() = %d; want %d", shards, got, want)
		}
	}
	f(0, DefaultShards)
	f(1, 1)
	f(2, 2)
	f(64, 64)
	f(4096, 4096)

	bad := func(shards int) {
		t.Helper()
		defer func() {
			t.Helper()
			if recover() == nil {
				t.Fatalf("New(%d) did not panic", shards)
			}
		}()
		New[int, struct{}](shards)
	}
	bad(-1)
	bad(3)
	bad(12)
	bad(5000)
	bad(8192)
}

func TestShardPadding(t *testing.T) {
	f := func(name string, size uintptr) {
		t.Helper()
		if size%cacheline.Size != 0 {
			t.Fatalf("%s is %d bytes; want a multiple of %d", name, size, cacheline.Size)
		}
	}
	f("shard[*int, struct{}]", unsafe.Sizeof(shard[*int, struct{}]{}))
	f("shard[int, [4]int]", unsafe.Sizeof(shard[int, [4]int]{}))
	f("shard[[4]int, string]", unsafe.Sizeof(shard[[4]int, string]{}))
}

func TestAcquireAddRemoveDrop(t *testing.T) {
	ix := New[int, int](4)
	ch := ix.Acquire("a.b")
	h1, h2, h3 := ch.Add(1), ch.Add(2), ch.Add(3)
	ch.State = 7
	ch.Unlock()
	if ix.Channels() != 1 || ix.Subscriptions() != 3 || ix.Entries() != 1 {
		t.Fatalf("Channels, Subscriptions, Entries = %d, %d, %d; want 1, 3, 1", ix.Channels(), ix.Subscriptions(), ix.Entries())
	}
	m := ix.Lookup("a.b")
	if m.Channel != ch || m.Patterns() != nil {
		t.Fatalf("Lookup = %+v; want the entry and no pattern", m)
	}
	if again := ix.Acquire("a.b"); again != ch || again.State != 7 {
		t.Fatalf("a second Acquire returned another entry")
	}
	ch.Remove(h1) // the last member moves into the hole
	if got := ch.Members(); !slices.Equal(got, []int{3, 2}) || h3.i != 0 || h2.i != 1 {
		t.Fatalf("after Remove(1): members %v, handles at %d, %d", got, h3.i, h2.i)
	}
	ch.Remove(h3)
	ch.Remove(h2)
	if ch.Len() != 0 || ix.Channels() != 0 || ix.Subscriptions() != 0 || ix.Entries() != 1 {
		t.Fatalf("emptied: Len %d, Channels %d, Subscriptions %d, Entries %d; want 0, 0, 0, 1 (not dropped yet)",
			ch.Len(), ix.Channels(), ix.Subscriptions(), ix.Entries())
	}
	ix.Drop(ch)
	ch.Unlock()
	if ix.Lookup("a.b").Channel != nil || ix.Entries() != 0 || !ch.Dead() {
		t.Fatalf("after Drop the entry is still found")
	}
	// A Relock of the dropped entry, as a publisher that found it before
	// the Drop makes, gets the name's new entry.
	next := ix.Relock(ch)
	if next == ch || next.Dead() || next.State != 0 {
		t.Fatalf("Relock of a dropped entry returned it, or a dead or used one")
	}
	next.Unlock()
	checkShards(t, ix, true)
}

func TestAcquireCopiesName(t *testing.T) {
	ix := New[int, struct{}](1)
	buf := []byte("token.BTC.trade")
	aliased := unsafe.String(&buf[0], len(buf)) // as a zero-copy decoder might pass it
	ch := ix.Acquire(aliased)
	ch.Add(1)
	ch.Unlock()
	copy(buf, "token.ETH.trade")
	if m := ix.Lookup("token.BTC.trade"); m.Channel != ch || ch.Name() != "token.BTC.trade" {
		t.Fatalf("after the caller reused its buffer the entry is not found under its name")
	}
	checkShards(t, ix, false)
}

func TestLookupAllocs(t *testing.T) {
	f := newFixture[*int](Config{})
	for i := range 100 {
		f.sub("token.BTC.trade", new(int))
		f.sub(fmt.Sprintf("user.%d.favorites", i), new(int))
	}
	check := func(channel string, want int) {
		t.Helper()
		var m Match[*int, struct{}]
		if allocs := testing.AllocsPerRun(1000, func() { m = f.Lookup(channel) }); allocs != 0 {
			t.Fatalf("Lookup(%q) allocates %v times per run; want 0", channel, allocs)
		}
		n := 0
		if m.Channel != nil {
			n = m.Channel.Len()
		}
		if n != want {
			t.Fatalf("Lookup(%q) finds %d members; want %d", channel, n, want)
		}
	}
	check("token.BTC.trade", 100)
	check("user.7.favorites", 1)
	check("token.ETH.trade", 0)
}

// model is the reference the index is checked against.
type model struct {
	subs   map[string]map[int]bool // channel or pattern -> subscribers
	client map[int]map[string]bool // subscriber -> channels
	count  int
}

func newModel() *model {
	return &model{subs: map[string]map[int]bool{}, client: map[int]map[string]bool{}}
}

func (m *model) subscribe(ch string, c int) bool {
	if m.subs[ch][c] {
		return false
	}
	if m.subs[ch] == nil {
		m.subs[ch] = map[int]bool{}
	}
	if m.client[c] == nil {
		m.client[c] = map[string]bool{}
	}
	m.subs[ch][c] = true
	m.client[c][ch] = true
	m.count++
	return true
}

func (m *model) unsubscribe(ch string, c int) bool {
	if !m.subs[ch][c] {
		return false
	}
	delete(m.subs[ch], c)
	if len(m.subs[ch]) == 0 {
		delete(m.subs, ch)
	}
	delete(m.client[c], ch)
	m.count--
	return true
}

func TestIndexMatchesModel(t *testing.T) {
	for _, shards := range []int{1, 4, 16} {
		t.Run(fmt.Sprintf("shards=%d", shards), func(t *testing.T) {
			testIndexMatchesModel(t, shards, rand.New(rand.NewPCG(uint64(shards), 42)))
		})
	}
}

func testIndexMatchesModel(t *testing.T, shards int, r *rand.Rand) {
	const (
		steps    = 20000
		clients  = 24
		channels = 40
	)
	names := make([]string, channels)
	for i := range names {
		names[i] = fmt.Sprintf("token.%d.%s", i%8, events[i%len(events)])
	}
	// Subscriptions are the channels and a few patterns; lookups go to the
	// channels and to some nobody subscribes to exactly.
	subNames := append(slices.Clone(names), "token.*.trade", "token.3.>", "token.>", "*.*.ticker", ">", "token.*.*", "user.*.favorites")
	lookups := append(slices.Clone(names), "token.99.trade", "user.1.favorites", "global")
	f, m := newFixture[int](Config{Shards: shards, MatchCacheSize: 16}), newModel()
	for step := range steps {
		ch, c := subNames[r.IntN(len(subNames))], r.IntN(clients)
		switch op := r.IntN(10); {
		case op < 4:
			if got, want := f.sub(ch, c), m.subscribe(ch, c); got != want {
				t.Fatalf("step %d: sub(%q, %d) = %v; want %v", step, ch, c, got, want)
			}
		case op < 7:
			if got, want := f.unsub(ch, c), m.unsubscribe(ch, c); got != want {
				t.Fatalf("step %d: unsub(%q, %d) = %v; want %v", step, ch, c, got, want)
			}
		case op < 8: // a disconnect
			for name := range maps.Clone(m.client[c]) {
				m.unsubscribe(name, c)
				f.unsub(name, c)
			}
		default:
			ch := lookups[r.IntN(len(lookups))]
			exact, pats := f.reach(ch)
			if (exact == nil) != (len(m.subs[ch]) == 0) {
				t.Fatalf("step %d: reach(%q) exact = %v; want none exactly when it has no subscriber", step, ch, exact)
			}
			// The union, deduped, is the reference set of subscribers.
			union, want := map[int]bool{}, map[int]bool{}
			for _, s := range exact {
				union[s] = true
			}
			for _, set := range pats {
				for _, s := range set {
					union[s] = true
				}
			}
			for sub, set := range m.subs {
				if refMatch(sub, ch) {
					for s := range set {
						want[s] = true
					}
				}
			}
			if !maps.Equal(union, want) {
				t.Fatalf("step %d: reach(%q) reaches %v; want %v", step, ch, union, want)
			}
		}
		if f.Channels() != len(m.subs) || f.Subscriptions() != m.count {
			t.Fatalf("step %d: Channels(), Subscriptions() = %d, %d; want %d, %d",
				step, f.Channels(), f.Subscriptions(), len(m.subs), m.count)
		}
		if step%1000 == 0 {
			checkShards(t, f.Index, false)
		}
	}
	checkShards(t, f.Index, false)
}

// TestMemberChangesTakeNoShardLock checks that a member coming or going on
// a channel that keeps other members costs no shard lock: only adding or
// dropping a channel does.
func TestMemberChangesTakeNoShardLock(t *testing.T) {
	f := newFixture[int](Config{Shards: 16})
	for i := range 1000 {
		f.sub("token.BTC.trade", i)
	}
	writes := func() (n uint64) {
		for i := range f.shards {
			n += f.ShardStats(i).Writes
		}
		return n
	}
	before := writes()
	for i := range 500 {
		f.unsub("token.BTC.trade", i)
		f.sub("token.BTC.trade", 1000+i)
	}
	if got := writes() - before; got != 0 {
		t.Fatalf("1,000 member changes on a busy channel took %d shard locks; want 0", got)
	}
	checkShards(t, f.Index, false)
}

// TestConcurrentChurn runs subscribe, unsubscribe and disconnect churn
// against publishers that walk the channels under their locks; run it with
// -race. Every client leaves at the end, after which the index must be
// empty.
func TestConcurrentChurn(t *testing.T) {
	const (
		writers          = 4
		clientsPerWriter = 8
		readers          = 4
		channels         = 32
	)
	iterations := 3000
	if testing.Short() {
		iterations = 300
	}
	names := make([]string, channels)
	for i := range names {
		names[i] = fmt.Sprintf("token.%x.%s", i, events[i%len(events)])
	}
	names = append(names, "token.*.trade", "token.>")
	ix := New[*int, struct{}](4)

	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 7))
			clients := make([]*int, clientsPerWriter)
			held := make([]map[string]*Sub[*int, struct{}], clientsPerWriter) // each client's own record
			for i := range clients {
				clients[i], held[i] = new(int), map[string]*Sub[*int, struct{}]{}
			}
			leaveAll := func(i int) {
				for _, h := range held[i] {
					leave(ix, h)
				}
				held[i] = map[string]*Sub[*int, struct{}]{}
			}
			for range iterations {
				i, name := r.IntN(clientsPerWriter), names[r.IntN(len(names))]
				switch op := r.IntN(20); {
				case op < 11:
					if held[i][name] == nil {
						ch := ix.Acquire(name)
						held[i][name] = ch.Add(clients[i])
						ch.Unlock()
					}
				case op < 19:
					if h := held[i][name]; h != nil {
						delete(held[i], name)
						leave(ix, h)
					}
				default: // disconnect and come back as a new client
					leaveAll(i)
					clients[i] = new(int)
				}
			}
			for i := range clients {
				leaveAll(i)
			}
		})
	}

	stop := make(chan struct{})
	var rg sync.WaitGroup
	for rd := range readers {
		rg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(rd), 9))
			for {
				select {
				case <-stop:
					return
				default:
				}
				m := ix.Lookup(names[r.IntN(channels)])
				walk := func(ch *Channel[*int, struct{}]) {
					seen := map[*int]bool{}
					for _, s := range ch.Members() {
						if s == nil || seen[s] {
							t.Errorf("%q holds a nil or repeated member", ch.Name())
						}
						seen[s] = true
					}
				}
				if ch := m.Channel; ch != nil {
					ch.Lock()
					walk(ch)
					ch.Unlock()
				}
				for _, p := range m.Patterns() {
					p.RLock()
					walk(p)
					p.RUnlock()
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	rg.Wait()
	checkAllLeft(t, ix)
}
