package index

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"wsfan/lib/monotime"
)

var sinkInt int

// benchNames returns n realistic channel names.
func benchNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		switch i % 3 {
		case 0:
			names[i] = fmt.Sprintf("token.%d.%s", i, events[i%len(events)])
		case 1:
			names[i] = fmt.Sprintf("token.%x.%s", i*7919, events[i%len(events)])
		default:
			names[i] = fmt.Sprintf("user.%d.favorites", i)
		}
	}
	return names
}

func newSubs(n int) []*int {
	subs := make([]*int, n)
	for i := range subs {
		subs[i] = new(int)
	}
	return subs
}

// benchIndex is the index type of the benchmarks.
type benchIndex = Index[*int, struct{}]

// load gives every channel the member list subs, bypassing Add, for
// benchmarks that only look channels up: 10,000 channels of 10,000 distinct
// members would take 800 MB. The index keeps copies of the names, as
// Acquire does: a lookup with the very string the index holds would skip
// comparing the bytes, which no publication does.
func load(ix *benchIndex, channels []string, subs []*int) {
	for _, ch := range channels {
		h := hash(ch)
		sh := &ix.shards[uint32(h)&ix.mask]
		locked := sh.lock(ix.writeMask)
		e := sh.insert(h, strings.Clone(ch))
		e.members = subs
		sh.unlock(locked)
	}
}

// BenchmarkLookup looks up 10,000 channels in turn; the cost must not depend
// on the number of members, since nothing is copied.
func BenchmarkLookup(b *testing.B) {
	names := benchNames(10000)
	for _, subs := range []int{1, 100, 10000} {
		b.Run(fmt.Sprintf("subs=%d", subs), func(b *testing.B) {
			ix := New[*int, struct{}](DefaultShards)
			load(ix, names, newSubs(subs))
			lookupInTurn(b, ix, names)
		})
	}
}

// BenchmarkLookupParallel looks up from every P at once: Lookup takes no
// lock and writes nothing, so it scales with the cores.
func BenchmarkLookupParallel(b *testing.B) {
	names := benchNames(10000)
	ix := New[*int, struct{}](DefaultShards)
	load(ix, names, newSubs(100))
	lookupParallel(b, ix, names)
}

// lookupInTurn is the timed loop of the lookup benchmarks: it looks names up
// one after the other, from the first again after the last, and counts what
// each publication reaches.
func lookupInTurn(b *testing.B, ix *benchIndex, names []string) {
	b.ReportAllocs()
	n, i := 0, 0
	for b.Loop() {
		n += reached(ix.Lookup(names[i]))
		if i++; i == len(names) {
			i = 0
		}
	}
	sinkInt = n
}

// lookupParallel is lookupInTurn from every P at once, each P starting at
// its own place in names.
func lookupParallel(b *testing.B, ix *benchIndex, names []string) {
	var start, total atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(start.Add(1297)) % len(names)
		n := 0
		for pb.Next() {
			n += reached(ix.Lookup(names[i]))
			if i++; i == len(names) {
				i = 0
			}
		}
		total.Add(int64(n))
	})
	sinkInt = int(total.Load())
}

// reached counts what a publication reaches, as a fan-out walks it: the
// channel's members and each matching pattern's. It inlines, so that a
// lookup that matches no pattern costs the loop no call beyond Lookup.
func reached(m Match[*int, struct{}]) int {
	if m.patterns != nil {
		return reachedWithPatterns(m)
	}
	if m.Channel == nil {
		return 0
	}
	return len(m.Channel.members)
}

// reachedWithPatterns is reached for a match with patterns, whose members it
// counts under each one's read lock.
func reachedWithPatterns(m Match[*int, struct{}]) int {
	n := 0
	if ch := m.Channel; ch != nil {
		n += len(ch.members)
	}
	for _, p := range m.Patterns() {
		p.RLock()
		n += p.Len()
		p.RUnlock()
	}
	return n
}

// BenchmarkSubscribeUnsubscribe subscribes and unsubscribes one member on a
// channel (or pattern) that keeps subs-1 others, as the server does: Acquire,
// Add, Unlock; then Lock, Remove, Unlock. Issue 11: the cost at 100,000
// members must be at most twice the cost at 100, with O(1) allocations.
func BenchmarkSubscribeUnsubscribe(b *testing.B) {
	for _, name := range []string{"token.BTC.trade", "token.*.trade"} {
		kind := "channel"
		if IsPattern(name) {
			kind = "pattern"
		}
		for _, subs := range []int{100, 10_000, 100_000} {
			b.Run(fmt.Sprintf("%s/subs=%d", kind, subs), func(b *testing.B) {
				ix := New[*int, struct{}](DefaultShards)
				ch := ix.Acquire(name)
				for _, s := range newSubs(subs - 1) {
					ch.Add(s)
				}
				ch.Unlock()
				me := new(int)
				b.ReportAllocs()
				for b.Loop() {
					c := ix.Acquire(name)
					h := c.Add(me)
					c.Unlock()
					c.Lock()
					c.Remove(h)
					c.Unlock()
				}
			})
		}
	}
}

// BenchmarkDisconnect is a client with subs subscriptions leaving an index
// of 10,000 busy channels: one O(1) Remove per subscription, whatever the
// shard count and the channels' sizes.
func BenchmarkDisconnect(b *testing.B) {
	names := benchNames(10000)
	for _, shards := range []int{4, 16, 64, 256} {
		ix := New[*int, struct{}](shards)
		for _, s := range newSubs(4) {
			for _, name := range names {
				ch := ix.Acquire(name)
				ch.Add(s)
				ch.Unlock()
			}
		}
		for _, perClient := range []int{1, 4, 16} {
			b.Run(fmt.Sprintf("shards=%d/subs=%d", shards, perClient), func(b *testing.B) {
				held := make([][]*Sub[*int, struct{}], b.N)
				for i := range held {
					c := new(int)
					for k := range perClient {
						ch := ix.Acquire(names[(i*perClient+k)*7%len(names)])
						held[i] = append(held[i], ch.Add(c))
						ch.Unlock()
					}
				}
				b.ReportAllocs()
				b.ResetTimer()
				for _, hs := range held {
					for _, h := range hs {
						ch := h.Channel()
						ch.Lock()
						ch.Remove(h)
						ch.Unlock()
					}
				}
			})
		}
	}
}

func BenchmarkHash(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sinkInt = int(hash("token.8f3a.liquidity"))
	}
}

func BenchmarkNanotime(b *testing.B) {
	for b.Loop() {
		sinkInt = int(monotime.Now())
	}
}
