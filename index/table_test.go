package index

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// TestTableMatchesModel drives one table with synthetic hashes, many of them
// equal, so that probes run long, cross tombstones and wrap around, and
// checks every key after every operation against a map.
func TestTableMatchesModel(t *testing.T) {
	tomb := &Channel[int, int]{}
	tb := newTable(minTableSize, tomb)
	model := map[string]int{}
	r := rand.New(rand.NewPCG(5, 6))
	keys := make([]string, 64)
	hashes := make([]uint64, len(keys))
	for i := range keys {
		keys[i] = fmt.Sprintf("k%d", i)
		hashes[i] = uint64(i%5)<<32 | uint64(i%3) // five probe starts, equal hashes for different keys
	}
	rebuilds := 0
	for step := range 20000 {
		k := r.IntN(len(keys))
		h, key := hashes[k], keys[k]
		i, e := tb.find(h, key)
		if _, ok := model[key]; ok != (e != nil) {
			t.Fatalf("step %d: find(%q) found %v; the model has it: %v", step, key, e != nil, ok)
		}
		switch {
		case e == nil:
			if tb.full() {
				tb = tb.rebuilt()
				rebuilds++
				i, _ = tb.find(h, key)
			}
			tb.insert(i, &Channel[int, int]{hash: h, name: key, State: step})
			model[key] = step
		case r.IntN(2) == 0:
			tb.remove(i)
			delete(model, key)
		default:
			tb.slots[i].Store(&Channel[int, int]{hash: h, name: key, State: step})
			model[key] = step
		}
		live, used := 0, 0
		for j := range tb.slots {
			if e := tb.slots[j].Load(); e != nil {
				used++
				if e != tomb {
					live++
				}
			}
		}
		if live != tb.live || used != tb.used || live != len(model) || 2*used > len(tb.slots) {
			t.Fatalf("step %d: table says %d live, %d used of %d; it holds %d, %d; the model %d",
				step, tb.live, tb.used, len(tb.slots), live, used, len(model))
		}
		for j, key := range keys {
			got := tb.get(hashes[j], key)
			want, ok := model[key]
			if ok != (got != nil) || (ok && got.State != want) {
				t.Fatalf("step %d: get(%q) = %v; the model has %v, %v", step, key, got, want, ok)
			}
		}
	}
	if rebuilds == 0 {
		t.Fatalf("the table was never rebuilt: the test does not cover rebuilds")
	}
}

// TestTableRebuildUnderReaders creates and deletes channels without pause,
// so that the shard's table keeps filling with tombstones and being rebuilt,
// while readers look up channels that never change and must always be
// found. Run it with -race.
func TestTableRebuildUnderReaders(t *testing.T) {
	ix := newFixture[int](Config{Shards: 1})
	const stable = 50
	for i := range stable {
		ix.sub(fmt.Sprintf("keep.%d", i), i)
	}
	iterations := 20000
	if testing.Short() {
		iterations = 2000
	}
	stop := make(chan struct{})
	var rg sync.WaitGroup
	for rd := range 2 {
		rg.Go(func() {
			for i := rd; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ch := fmt.Sprintf("keep.%d", i%stable)
				e := ix.Lookup(ch).Channel
				if e == nil {
					t.Errorf("Lookup(%q) finds nothing during churn", ch)
					return
				}
				e.RLock()
				got := slices.Clone(e.Members())
				e.RUnlock()
				if len(got) != 1 || got[0] != i%stable {
					t.Errorf("Lookup(%q) = %v during churn; want [%d]", ch, got, i%stable)
					return
				}
			}
		})
	}
	for i := range iterations {
		ch := fmt.Sprintf("tmp.%d", i%200)
		if i%400 < 200 {
			ix.sub(ch, i)
		} else {
			ix.unsub(ch, i-200)
		}
	}
	close(stop)
	rg.Wait()
	if ix.Channels() != stable || ix.Subscriptions() != stable {
		t.Fatalf("after the churn: Channels(), Subscriptions() = %d, %d; want %d, %d", ix.Channels(), ix.Subscriptions(), stable, stable)
	}
	checkShards(t, ix.Index, false)
}
