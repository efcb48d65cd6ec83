package cluster

import (
	"math/rand/v2"
	"testing"
	"wsfan/index"

	"github.com/nats-io/nats.go"
)

// ownerOf returns the live entry that owns channel: the oldest matching one.
func (t *subTable) ownerOf(channel string) *subEntry {
	var o *subEntry
	for _, e := range t.byKey {
		if index.Overlap(e.key, channel) && (o == nil || e.id < o.id) {
			o = e
		}
	}
	return o
}

// TestSubTableModel runs random acquire/release sequences against a plain
// reference count and checks after every step:
//   - every key with subscribers has a live entry with that count;
//   - every zombie has a younger live entry overlapping it (else it should
//     have been dropped), and nothing else is live;
//   - ownership never moves between two entries that both stay live: a
//     channel's owner after a step is the owner before it, or an entry the
//     step created, or there was no owner before, or the old owner left
//     with no other entry matching the channel;
//   - owns agrees with ownerOf.
func TestSubTableModel(t *testing.T) {
	keys := []string{
		"t.a.x", "t.b.x", "t.a.y", "t.a", "u.1",
		"t.*.x", "t.a.>", "t.>", "*.a.*", ">", "u.*",
	}
	chans := []string{"t.a.x", "t.b.x", "t.a.y", "t.a", "u.1", "t.c.x", "t.a.y.z", "u.2", "v"}
	for seed := range uint64(100) {
		r := rand.New(rand.NewPCG(seed, 1))
		tb := newSubTable()
		ref := map[string]int{}
		subs := map[*subEntry]*nats.Subscription{}
		for step := range 200 {
			before := map[string]*subEntry{}
			for _, c := range chans {
				before[c] = tb.ownerOf(c)
			}
			k := keys[r.IntN(len(keys))]
			var created *subEntry
			if ref[k] == 0 || r.IntN(2) == 0 {
				e, isNew := tb.acquire(k)
				ref[k]++
				if isNew {
					created = e
					e.ns = &nats.Subscription{Subject: k}
					close(e.ready)
					subs[e] = e.ns
				}
			} else {
				drop, ok := tb.release(k)
				if !ok {
					t.Fatalf("seed %d step %d: release(%q) not ok with %d refs", seed, step, k, ref[k])
				}
				ref[k]--
				for _, e := range drop {
					if _, live := tb.byKey[e.key]; live && tb.byKey[e.key] == e {
						t.Fatalf("seed %d step %d: dropped %q still in the table", seed, step, e.key)
					}
				}
			}

			for key, n := range ref {
				e := tb.byKey[key]
				if n > 0 && (e == nil || e.refs != n) {
					t.Fatalf("seed %d step %d: %q has %d refs; entry %+v", seed, step, key, n, e)
				}
			}
			for key, e := range tb.byKey {
				if e.refs != ref[key] {
					t.Fatalf("seed %d step %d: entry %q refs %d; want %d", seed, step, key, e.refs, ref[key])
				}
				if e.refs == 0 && !tb.overlapsYounger(e) {
					t.Fatalf("seed %d step %d: zombie %q should have been dropped", seed, step, key)
				}
				if _, z := tb.zombies[e]; z != (e.refs == 0) {
					t.Fatalf("seed %d step %d: zombie set wrong for %q", seed, step, key)
				}
			}
			for _, c := range chans {
				old, now := before[c], tb.ownerOf(c)
				switch {
				case old == nil || old == now || now == created:
				case tb.byKey[old.key] != old && now == nil:
				default:
					t.Fatalf("seed %d step %d (%q): owner of %s moved from %q#%d to %q#%d",
						seed, step, k, c, old.key, old.id, now.key, now.id)
				}
				for _, e := range tb.byKey {
					if !index.Overlap(e.key, c) {
						continue
					}
					if got, _ := tb.owns(subs[e], e.key, c); got != (e == now) {
						t.Fatalf("seed %d step %d: owns(%q, %s) = %v; want %v", seed, step, e.key, c, got, e == now)
					}
				}
			}
		}
	}
}

// TestSubTableStale: a copy that arrives on a subscription whose entry has
// left, or been replaced, is not delivered; one that overtakes its
// subscription's creation waits for it.
func TestSubTableStale(t *testing.T) {
	tb := newSubTable()
	owns := func(ns *nats.Subscription) bool {
		t.Helper()
		owner, wait := tb.owns(ns, "a.b", "a.b")
		if wait != nil {
			t.Fatal("owns asks to wait for a ready entry")
		}
		return owner
	}
	e, _ := tb.acquire("a.b")
	if _, wait := tb.owns(&nats.Subscription{}, "a.b", "a.b"); wait != e.ready {
		t.Fatal("owns does not wait for an entry whose subscription is being made")
	}
	e.ns = &nats.Subscription{Subject: "a.b"}
	close(e.ready)
	old := e.ns
	if !owns(old) {
		t.Fatal("live entry does not own its channel")
	}
	if drop, _ := tb.release("a.b"); len(drop) != 1 {
		t.Fatalf("release dropped %d entries; want 1", len(drop))
	}
	if owns(old) {
		t.Fatal("dropped entry owns its channel")
	}
	e, _ = tb.acquire("a.b")
	e.ns = &nats.Subscription{Subject: "a.b"}
	close(e.ready)
	if owns(old) || !owns(e.ns) {
		t.Fatal("a re-created entry: ownership wrong")
	}
	if _, ok := tb.release("x"); ok {
		t.Fatal("release of an unknown key is ok")
	}
	// An entry nats.go refused (ns nil, ready closed) owns nothing.
	f, _ := tb.acquire("c")
	close(f.ready)
	if owner, wait := tb.owns(&nats.Subscription{}, "c", "c"); owner || wait != nil {
		t.Fatalf("refused entry: owns = %v, wait = %v", owner, wait)
	}
}
