package index

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
)

var (
	sinkInt   int
	sinkSlice []*int
)

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

// load gives every channel the same snapshot subs, bypassing Subscribe.
// Snapshots are immutable, so channels may share one: 10,000 channels of
// 10,000 distinct subscribers would take 800 MB. The capacity limit keeps a
// later Subscribe from appending into the shared array. The index keeps
// copies of the names, as Subscribe does: a lookup with the very string the
// index holds would skip comparing the bytes, which no publication does.
func load(ix *Index[*int], channels []string, subs []*int) {
	subs = subs[:len(subs):len(subs)]
	for _, ch := range channels {
		h := hash(ch)
		sh := &ix.shards[uint32(h)&ix.mask]
		locked := sh.lock(ix.writeMask)
		t := sh.table.Load()
		if t.full() {
			t = t.rebuilt()
			sh.table.Store(t)
		}
		i, _ := t.find(h, ch)
		t.insert(i, &entry[*int]{hash: h, name: strings.Clone(ch), subs: subs})
		sh.subscriptions += len(subs)
		sh.unlock(locked)
	}
}

// BenchmarkLookup looks up 10,000 channels in turn; the cost must not depend
// on the number of subscribers, since nothing is copied.
func BenchmarkLookup(b *testing.B) {
	names := benchNames(10000)
	for _, subs := range []int{1, 100, 10000} {
		b.Run(fmt.Sprintf("subs=%d", subs), func(b *testing.B) {
			ix := New[*int](DefaultShards)
			load(ix, names, newSubs(subs))
			b.ReportAllocs()
			n, i := 0, 0
			for b.Loop() {
				n += ix.Lookup(names[i]).Len()
				if i++; i == len(names) {
					i = 0
				}
			}
			sinkInt = n
		})
	}
}

// BenchmarkLookupParallel looks up from every P at once: readers share the
// shard read locks.
func BenchmarkLookupParallel(b *testing.B) {
	names := benchNames(10000)
	ix := New[*int](DefaultShards)
	load(ix, names, newSubs(100))
	var start, total atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(start.Add(1297)) % len(names)
		n := 0
		for pb.Next() {
			n += ix.Lookup(names[i]).Len()
			if i++; i == len(names) {
				i = 0
			}
		}
		total.Add(int64(n))
	})
	sinkInt = int(total.Load())
}

// BenchmarkSubscribeUnsubscribe subscribes and unsubscribes one client on a
// channel that has subs-1 other subscribers: the copy-on-write cost.
func BenchmarkSubscribeUnsubscribe(b *testing.B) {
	for _, subs := range []int{1, 100, 10000} {
		b.Run(fmt.Sprintf("subs=%d", subs), func(b *testing.B) {
			ix := New[*int](DefaultShards)
			const ch = "token.BTC.trade"
			for _, s := range newSubs(subs - 1) {
				ix.Subscribe(ch, s)
			}
			me := new(int)
			b.ReportAllocs()
			for b.Loop() {
				ix.Subscribe(ch, me)
				ix.Unsubscribe(ch, me)
			}
		})
	}
}

// BenchmarkSnapshotElem is BenchmarkSubscribeUnsubscribe on a channel of
// 10,000 subscribers with pointer subscribers and with uint32 ones (a
// caller's slot numbers): copying pointers makes the garbage collector's
// write barriers and scanning part of every Unsubscribe.
func BenchmarkSnapshotElem(b *testing.B) {
	const ch, n = "token.BTC.trade", 10000
	b.Run("elem=pointer", func(b *testing.B) {
		ix := New[*int](DefaultShards)
		for _, s := range newSubs(n - 1) {
			ix.Subscribe(ch, s)
		}
		me := new(int)
		b.ReportAllocs()
		for b.Loop() {
			ix.Subscribe(ch, me)
			ix.Unsubscribe(ch, me)
		}
	})
	b.Run("elem=uint32", func(b *testing.B) {
		ix := New[uint32](DefaultShards)
		for i := range uint32(n - 1) {
			ix.Subscribe(ch, i)
		}
		b.ReportAllocs()
		for b.Loop() {
			ix.Subscribe(ch, n)
			ix.Unsubscribe(ch, n)
		}
	})
}

// BenchmarkRemoveAll disconnects clients of subs subscriptions each from an
// index of 10,000 busy channels; the cost per client must grow with subs and
// not with the shard count.
func BenchmarkRemoveAll(b *testing.B) {
	names := benchNames(10000)
	for _, shards := range []int{4, 16, 64, 256} {
		ix := New[*int](shards)
		for _, s := range newSubs(4) {
			for _, ch := range names {
				ix.Subscribe(ch, s)
			}
		}
		for _, perClient := range []int{1, 4, 16} {
			b.Run(fmt.Sprintf("shards=%d/subs=%d", shards, perClient), func(b *testing.B) {
				clients := newSubs(b.N)
				lists := make([][]string, b.N)
				for i, c := range clients {
					lists[i] = make([]string, perClient)
					for k := range perClient {
						ch := names[(i*perClient+k)*7%len(names)]
						lists[i][k] = ch
						ix.Subscribe(ch, c)
					}
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i, c := range clients {
					if ix.RemoveAll(c, lists[i]) != perClient {
						b.Fatal("RemoveAll removed too few")
					}
				}
			})
		}
	}
}

// BenchmarkSnapshotCost compares the ways Unsubscribe and Subscribe could find
// a subscriber: a linear scan of the snapshot (chosen) or a per-channel
// position map, against the copy Unsubscribe makes anyway.
func BenchmarkSnapshotCost(b *testing.B) {
	for _, n := range []int{1, 100, 10000} {
		subs := newSubs(n)
		pos := make(map[*int]int, n)
		for i, s := range subs {
			pos[s] = i
		}
		stranger := new(int)
		b.Run(fmt.Sprintf("scan/subs=%d", n), func(b *testing.B) {
			for b.Loop() {
				sinkInt = indexOf(subs, stranger)
			}
		})
		b.Run(fmt.Sprintf("posmap/subs=%d", n), func(b *testing.B) {
			for b.Loop() {
				sinkInt = pos[stranger]
			}
		})
		b.Run(fmt.Sprintf("copy/subs=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkSlice = without(subs, n/2)
			}
		})
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
		sinkInt = int(nanotime())
	}
}
