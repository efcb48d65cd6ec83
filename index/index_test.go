package index

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"unsafe"
)

// checkShards verifies the index's internal invariants: every entry is
// non-empty, in the shard its name hashes to, findable through its table,
// without duplicates; the tables' counts hold; the per-shard and index
// counters agree with the tables and the trie (checkTrie). Callers must not
// run writers concurrently.
func checkShards[S comparable](t *testing.T, ix *Index[S]) {
	t.Helper()
	channels, subs := 0, 0
	for i := range ix.shards {
		sh := &ix.shards[i]
		sh.mu.Lock()
		tb := sh.table.Load()
		shardChannels, shardSubs, used := 0, 0, 0
		for j := range tb.slots {
			e := tb.slots[j].Load()
			if e != nil {
				used++
			}
			if e == nil || e == tb.tomb {
				continue
			}
			if len(e.subs) == 0 {
				t.Fatalf("shard %d holds channel %q with no subscribers", i, e.name)
			}
			if got := ix.ShardOf(e.name); got != i {
				t.Fatalf("channel %q is in shard %d; it hashes to %d", e.name, i, got)
			}
			if e.hash != hash(e.name) {
				t.Fatalf("channel %q carries a wrong hash", e.name)
			}
			if got := tb.get(e.hash, e.name); len(got) != len(e.subs) {
				t.Fatalf("channel %q: the table's own probe finds %d subscribers; its slot holds %d", e.name, len(got), len(e.subs))
			}
			seen := make(map[S]bool, len(e.subs))
			for _, s := range e.subs {
				if seen[s] {
					t.Fatalf("channel %q lists %v twice", e.name, s)
				}
				seen[s] = true
			}
			shardChannels++
			shardSubs += len(e.subs)
		}
		if tb.live != shardChannels || tb.used != used || 2*tb.used > len(tb.slots) {
			t.Fatalf("shard %d: table counts %d live, %d used of %d slots; it holds %d live, %d used",
				i, tb.live, tb.used, len(tb.slots), shardChannels, used)
		}
		sh.mu.Unlock()
		if st := ix.ShardStats(i); st.Channels != shardChannels || st.Subscriptions != shardSubs {
			t.Fatalf("ShardStats(%d) says %d channels, %d subscriptions; the shard holds %d, %d",
				i, st.Channels, st.Subscriptions, shardChannels, shardSubs)
		}
		channels += shardChannels
		subs += shardSubs
	}
	patterns, patternSubs := checkTrie(t, ix)
	channels += patterns
	subs += patternSubs
	if ix.Channels() != channels || ix.Subscriptions() != subs {
		t.Fatalf("Channels(), Subscriptions() = %d, %d; the shards and the trie hold %d, %d",
			ix.Channels(), ix.Subscriptions(), channels, subs)
	}
}

func TestNew(t *testing.T) {
	f := func(shards, want int) {
		t.Helper()
		if got := New[int](shards).Shards(); got != want {
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
		New[int](shards)
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
		if size%cacheLinePad != 0 {
			t.Fatalf("%s is %d bytes; want a multiple of %d", name, size, cacheLinePad)
		}
	}
	f("shard[*int]", unsafe.Sizeof(shard[*int]{}))
	f("shard[int]", unsafe.Sizeof(shard[int]{}))
	f("shard[[4]int]", unsafe.Sizeof(shard[[4]int]{}))
}

func TestSubscribeUnsubscribe(t *testing.T) {
	ix := New[int](4)
	f := func(got, want bool, what string) {
		t.Helper()
		if got != want {
			t.Fatalf("%s = %v; want %v", what, got, want)
		}
	}
	f(ix.Subscribe("a.b", 1), true, "first Subscribe")
	f(ix.Subscribe("a.b", 1), false, "repeated Subscribe")
	f(ix.Subscribe("a.b", 2), true, "second subscriber")
	f(ix.Unsubscribe("a.b", 3), false, "Unsubscribe of a stranger")
	f(ix.Unsubscribe("x.y", 1), false, "Unsubscribe from an unknown channel")
	if ix.Channels() != 1 || ix.Subscriptions() != 2 {
		t.Fatalf("Channels(), Subscriptions() = %d, %d; want 1, 2", ix.Channels(), ix.Subscriptions())
	}
	if got := ix.Lookup("a.b").Exact; !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("Lookup = %v; want [1 2]", got)
	}
	f(ix.Unsubscribe("a.b", 1), true, "Unsubscribe")
	f(ix.Unsubscribe("a.b", 1), false, "repeated Unsubscribe")
	f(ix.Unsubscribe("a.b", 2), true, "last Unsubscribe")
	if m := ix.Lookup("a.b"); m.Exact != nil || m.Len() != 0 {
		t.Fatalf("Lookup of an empty channel = %#v; want nil", m)
	}
	if ix.Channels() != 0 || ix.Subscriptions() != 0 {
		t.Fatalf("Channels(), Subscriptions() = %d, %d; want 0, 0", ix.Channels(), ix.Subscriptions())
	}
	if n := ix.shards[ix.ShardOf("a.b")].table.Load().live; n != 0 {
		t.Fatalf("the shard keeps %d entries after the last Unsubscribe; want 0", n)
	}
}

func TestSubscribeCopiesChannel(t *testing.T) {
	ix := New[int](1)
	buf := []byte("token.BTC.trade")
	aliased := unsafe.String(&buf[0], len(buf)) // as a zero-copy decoder might pass it
	ix.Subscribe(aliased, 1)
	ix.Subscribe(aliased, 2) // an update must not swap the aliased string in as the key
	copy(buf, "token.ETH.trade")
	if got := ix.Lookup("token.BTC.trade").Len(); got != 2 {
		t.Fatalf("after the caller reused its buffer, Lookup finds %d subscribers; want 2", got)
	}
	checkShards(t, ix)
}

func TestLookupSnapshotIsCapped(t *testing.T) {
	ix := New[int](1)
	for i := range 3 {
		ix.Subscribe("a", i)
	}
	m := ix.Lookup("a")
	if cap(m.Exact) != len(m.Exact) {
		t.Fatalf("snapshot has cap %d > len %d: an append by the caller would write into the index", cap(m.Exact), len(m.Exact))
	}
	_ = append(m.Exact, 99)
	ix.Subscribe("a", 3)
	if got := ix.Lookup("a").Exact; !slices.Equal(got, []int{0, 1, 2, 3}) {
		t.Fatalf("Lookup = %v; want [0 1 2 3]", got)
	}
}

func TestLookupAllocs(t *testing.T) {
	ix := New[*int](DefaultShards)
	for i := range 100 {
		ix.Subscribe("token.BTC.trade", new(int))
		ix.Subscribe(fmt.Sprintf("user.%d.favorites", i), new(int))
	}
	f := func(channel string, want int) {
		t.Helper()
		var m Match[*int]
		allocs := testing.AllocsPerRun(1000, func() { m = ix.Lookup(channel) })
		if allocs != 0 {
			t.Fatalf("Lookup(%q) allocates %v times per run; want 0", channel, allocs)
		}
		if m.Len() != want {
			t.Fatalf("Lookup(%q).Len() = %d; want %d", channel, m.Len(), want)
		}
	}
	f("token.BTC.trade", 100)
	f("user.7.favorites", 1)
	f("token.ETH.trade", 0)
}

// model is the reference the index is checked against.
type model struct {
	subs   map[string]map[int]bool // channel -> subscribers
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

// snapshot is a Lookup result with the copy taken when it was returned.
type snapshot struct {
	channel string
	got     []int
	saved   []int
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
	ix, m := NewWith[int](Config{Shards: shards, MatchCacheSize: 16}), newModel()
	var held []snapshot // earlier Lookup results, which must never change
	for step := range steps {
		ch, c := subNames[r.IntN(len(subNames))], r.IntN(clients)
		switch op := r.IntN(10); {
		case op < 4:
			if got, want := ix.Subscribe(ch, c), m.subscribe(ch, c); got != want {
				t.Fatalf("step %d: Subscribe(%q, %d) = %v; want %v", step, ch, c, got, want)
			}
		case op < 7:
			if got, want := ix.Unsubscribe(ch, c), m.unsubscribe(ch, c); got != want {
				t.Fatalf("step %d: Unsubscribe(%q, %d) = %v; want %v", step, ch, c, got, want)
			}
		case op < 8:
			list := slices.Sorted(func(yield func(string) bool) {
				for ch := range m.client[c] {
					if !yield(ch) {
						return
					}
				}
			})
			// A stale list may name channels already left, or twice.
			list = append(list, ch)
			if len(list) > 1 {
				list = append(list, list[0])
			}
			want := 0
			for _, ch := range list {
				if m.unsubscribe(ch, c) {
					want++
				}
			}
			if got := ix.RemoveAll(c, list); got != want {
				t.Fatalf("step %d: RemoveAll(%d, %q) = %d; want %d", step, c, list, got, want)
			}
		default:
			ch := lookups[r.IntN(len(lookups))]
			got := checkMatch(t, ix, m.subs, ch)
			if (got.Exact == nil) != (len(m.subs[ch]) == 0) {
				t.Fatalf("step %d: Lookup(%q).Exact = %#v; want nil exactly when it has no subscriber", step, ch, got.Exact)
			}
			// Lookup's union, deduped, is the reference set of subscribers.
			union, want := map[int]bool{}, map[int]bool{}
			for _, s := range got.Exact {
				union[s] = true
			}
			for _, snap := range got.Patterns() {
				for _, s := range snap {
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
				t.Fatalf("step %d: Lookup(%q) reaches %v; want %v", step, ch, union, want)
			}
			for _, snap := range append([][]int{got.Exact}, got.Patterns()...) {
				if len(held) < 64 {
					held = append(held, snapshot{ch, snap, slices.Clone(snap)})
				} else {
					held[r.IntN(len(held))] = snapshot{ch, snap, slices.Clone(snap)}
				}
			}
		}
		if ix.Channels() != len(m.subs) || ix.Subscriptions() != m.count {
			t.Fatalf("step %d: Channels(), Subscriptions() = %d, %d; want %d, %d",
				step, ix.Channels(), ix.Subscriptions(), len(m.subs), m.count)
		}
		for _, h := range held {
			if !slices.Equal(h.got, h.saved) {
				t.Fatalf("step %d: a snapshot of %q changed from %v to %v", step, h.channel, h.saved, h.got)
			}
		}
		if step%1000 == 0 {
			checkShards(t, ix)
		}
	}
	checkShards(t, ix)
}

func TestRemoveAllTouchesOnlyItsShards(t *testing.T) {
	for _, shards := range []int{16, 64, 4096} {
		ix := New[int](shards)
		// Other clients fill many channels.
		for i := range 1000 {
			ix.Subscribe(fmt.Sprintf("user.%d.favorites", i), i+100)
		}
		mine := []string{"token.BTC.trade", "token.BTC.liquidity", "token.8f3a.trade", "user.42.favorites"}
		for _, ch := range mine {
			ix.Subscribe(ch, 1)
		}
		before := make([]uint64, shards)
		for i := range ix.shards {
			before[i] = ix.shards[i].writes
		}
		if got := ix.RemoveAll(1, mine); got != len(mine) {
			t.Fatalf("shards=%d: RemoveAll = %d; want %d", shards, got, len(mine))
		}
		want := make([]uint64, shards)
		for _, ch := range mine {
			want[ix.ShardOf(ch)]++
		}
		total := uint64(0)
		for i := range ix.shards {
			got := ix.shards[i].writes - before[i]
			total += got
			if got != want[i] {
				t.Fatalf("shards=%d: RemoveAll write-locked shard %d %d times; want %d", shards, i, got, want[i])
			}
		}
		if total != uint64(len(mine)) {
			t.Fatalf("shards=%d: RemoveAll took %d write locks; want %d whatever the shard count", shards, total, len(mine))
		}
		if ix.Subscriptions() != 1000 || ix.Channels() != 1000 {
			t.Fatalf("shards=%d: Channels(), Subscriptions() = %d, %d; want 1000, 1000", shards, ix.Channels(), ix.Subscriptions())
		}
		checkShards(t, ix)
	}
}

// TestConcurrentChurn runs subscribe, unsubscribe and RemoveAll churn against
// readers that hold snapshots; run it with -race. Every client removes its
// subscriptions at the end, after which the index must be empty.
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
	ix := New[*int](4)

	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 7))
			clients := make([]*int, clientsPerWriter)
			subs := make([]map[string]bool, clientsPerWriter) // each client's own list
			for i := range clients {
				clients[i], subs[i] = new(int), map[string]bool{}
			}
			list := func(i int) []string {
				var l []string
				for ch := range subs[i] {
					l = append(l, ch)
				}
				return l
			}
			for range iterations {
				i, ch := r.IntN(clientsPerWriter), names[r.IntN(channels)]
				switch op := r.IntN(20); {
				case op < 11:
					if ix.Subscribe(ch, clients[i]) == subs[i][ch] {
						t.Errorf("Subscribe(%q) = %v with the client's list saying %v", ch, !subs[i][ch], subs[i][ch])
						return
					}
					subs[i][ch] = true
				case op < 19:
					if ix.Unsubscribe(ch, clients[i]) != subs[i][ch] {
						t.Errorf("Unsubscribe(%q) = %v with the client's list saying %v", ch, !subs[i][ch], subs[i][ch])
						return
					}
					delete(subs[i], ch)
				default: // disconnect and come back as a new client
					if got, want := ix.RemoveAll(clients[i], list(i)), len(subs[i]); got != want {
						t.Errorf("RemoveAll = %d; want %d", got, want)
						return
					}
					clients[i], subs[i] = new(int), map[string]bool{}
				}
			}
			for i := range clients {
				if got, want := ix.RemoveAll(clients[i], list(i)), len(subs[i]); got != want {
					t.Errorf("final RemoveAll = %d; want %d", got, want)
				}
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
				ch := names[r.IntN(channels)]
				m := ix.Lookup(ch)
				saved := slices.Clone(m.Exact)
				runtime.Gosched() // let writers replace the snapshot meanwhile
				seen := map[*int]bool{}
				for _, s := range m.Exact {
					if s == nil || seen[s] {
						t.Errorf("snapshot of %q holds a nil or repeated subscriber", ch)
						return
					}
					seen[s] = true
				}
				if !slices.Equal(m.Exact, saved) {
					t.Errorf("snapshot of %q changed under its reader", ch)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	rg.Wait()

	if ix.Channels() != 0 || ix.Subscriptions() != 0 {
		t.Fatalf("after every client left: Channels(), Subscriptions() = %d, %d; want 0, 0", ix.Channels(), ix.Subscriptions())
	}
	for i := range ix.shards {
		if n := ix.shards[i].table.Load().live; n != 0 {
			t.Fatalf("after every client left, shard %d keeps %d channels", i, n)
		}
	}
}

// TestPanicReleasesLock checks that a panicking comparison (an interface S
// holding an uncomparable value) does not leave a shard locked.
func TestPanicReleasesLock(t *testing.T) {
	ix := New[any](1)
	ix.Subscribe("a", []int{1}) // a new channel: nothing compared yet
	for _, op := range []func(){
		func() { ix.Subscribe("a", []int{2}) },
		func() { ix.Unsubscribe("a", []int{2}) },
		func() { ix.RemoveAll([]int{2}, []string{"a"}) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Fatalf("comparing uncomparable values did not panic")
				}
			}()
			op()
		}()
		if got := ix.Lookup("a").Len(); got != 1 { // would block on a held lock
			t.Fatalf("Lookup after a panic = %d subscribers; want 1", got)
		}
	}
}
