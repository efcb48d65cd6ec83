package cluster

import (
	"slices"

	"github.com/nats-io/nats.go"

	"wsfan/index"
)

// subTable is the per-channel mode's record of its NATS subscriptions: one
// entry per channel or pattern that local clients hold, counted.
//
// # Overlap and ownership
//
// NATS sends a message once per matching subscription of a connection: with
// token.BTC.trade and token.*.trade both held, a publication on
// token.BTC.trade arrives twice, on two subscriptions. wsfan must hand it to
// the caller once. The rule: a copy is delivered only when it arrived on the
// owner of its channel, the oldest live entry matching it (entries are
// numbered in the order their SUBs were sent). The server registers SUBs in
// that order, so whenever a younger entry gets a copy the owner got one too.
//
// Ownership must not move while two live entries match a channel, or a
// publication whose copies straddle the move would be delivered twice or not
// at all. New entries are always younger, so adding never moves it. Removing
// could: an entry whose count falls to zero while a younger live entry
// overlaps it stays subscribed in NATS as a zombie (refs == 0) and keeps
// owning; it is dropped once no younger overlapping entry is left. A zombie
// costs some NATS traffic for channels nobody here holds; the caller's index
// finds no subscriber for those and delivers nothing.
//
// After a reconnect nats.go re-sends every SUB at once, in no set order; a
// publication matched while they are being processed can reach only a
// non-owner and be dropped. That is inside the reconnect's gap (Bridge.Gaps).
//
// Costs: acquire is O(1); releasing a channel is O(patterns held);
// releasing a pattern, or dropping one that was a zombie, scans every entry,
// O(entries). owns is O(older patterns). All methods run under Bridge.mu;
// the NATS calls they imply are made later, in the same order, by the
// bridge's subscriber goroutine (Interest).
type subTable struct {
	nextID uint64
	// byKey holds the live entries (zombies included) by channel or pattern.
	byKey map[string]*subEntry
	// patterns are the live pattern entries, by ascending id.
	patterns []*subEntry
	// zombies are the live entries with refs == 0.
	zombies map[*subEntry]struct{}
}

// subEntry is one NATS subscription of the per-channel mode.
type subEntry struct {
	key     string // wsfan channel or pattern; the subject is prefix + key
	id      uint64 // creation order: SUBs reach the server in this order
	refs    int    // local subscribers; 0 for a zombie
	pattern bool
	// ns is the NATS subscription, set once by the subscriber goroutine
	// under Bridge.mu; nil until then, and for good when nats.go refused it
	// (the connection was closed).
	ns *nats.Subscription
	// ready is closed once ns is set (or never will be).
	ready chan struct{}
}

func newSubTable() *subTable {
	return &subTable{
		byKey:   make(map[string]*subEntry),
		zombies: make(map[*subEntry]struct{}),
	}
}

// acquire adds a reference to key (a valid channel or pattern). created is
// true when the entry is new and needs a NATS subscription; a zombie is
// revived in place.
func (t *subTable) acquire(key string) (e *subEntry, created bool) {
	if e = t.byKey[key]; e != nil {
		if e.refs == 0 {
			delete(t.zombies, e)
		}
		e.refs++
		return e, false
	}
	t.nextID++
	e = &subEntry{key: key, id: t.nextID, refs: 1, pattern: index.IsPattern(key), ready: make(chan struct{})}
	t.byKey[key] = e
	if e.pattern {
		t.patterns = append(t.patterns, e) // the largest id so far: order kept
	}
	return e, true
}

// release drops a reference to key. ok is false when key held none. drop
// lists the entries that left the table and whose NATS subscriptions the
// caller must remove, youngest first.
func (t *subTable) release(key string) (drop []*subEntry, ok bool) {
	e := t.byKey[key]
	if e == nil || e.refs == 0 {
		return nil, false
	}
	e.refs--
	if e.refs > 0 {
		return nil, true
	}
	t.zombies[e] = struct{}{}
	// Work list of zombies that may have become droppable, youngest first:
	// dropping one can only unblock older ones that overlap it.
	work := []*subEntry{e}
	for len(work) > 0 {
		slices.SortFunc(work, func(a, b *subEntry) int { return cmpID(b.id, a.id) })
		z := work[0]
		work = work[1:]
		if _, still := t.zombies[z]; !still || t.overlapsYounger(z) {
			continue
		}
		t.remove(z)
		drop = append(drop, z)
		for o := range t.zombies {
			if o.id < z.id && index.Overlap(o.key, z.key) && !slices.Contains(work, o) {
				work = append(work, o)
			}
		}
	}
	return drop, true
}

func cmpID(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// overlapsYounger reports whether a live entry younger than z overlaps it.
// Two distinct channels never overlap, so for a channel only the patterns
// are checked.
func (t *subTable) overlapsYounger(z *subEntry) bool {
	for _, p := range t.patterns {
		if p.id > z.id && index.Overlap(p.key, z.key) {
			return true
		}
	}
	if !z.pattern {
		return false
	}
	for _, x := range t.byKey {
		if !x.pattern && x.id > z.id && index.Overlap(z.key, x.key) {
			return true
		}
	}
	return false
}

// remove takes e out of the table.
func (t *subTable) remove(e *subEntry) {
	delete(t.byKey, e.key)
	delete(t.zombies, e)
	if e.pattern {
		t.patterns = slices.DeleteFunc(t.patterns, func(p *subEntry) bool { return p == e })
	}
}

// owns reports whether a message on channel that arrived on the NATS
// subscription ns, made for key, is to be delivered: ns is still the live
// entry for key and no older live entry matches channel.
//
// A message can overtake the return of the ChanSubscribe that made ns. When
// key's entry has no ns yet, owns returns the entry's ready channel instead:
// the caller releases Bridge.mu, waits for it and asks again.
func (t *subTable) owns(ns *nats.Subscription, key, channel string) (owner bool, wait <-chan struct{}) {
	e := t.byKey[key]
	if e == nil {
		return false, nil // a copy that was in flight when its entry left
	}
	if e.ns == nil {
		select {
		case <-e.ready:
			return false, nil // nats.go refused it: ns is not this entry's
		default:
			return false, e.ready
		}
	}
	if e.ns != ns {
		return false, nil // a copy from an earlier entry for the same key
	}
	if e.pattern {
		if x := t.byKey[channel]; x != nil && x.id < e.id {
			return false, nil
		}
	}
	for _, p := range t.patterns {
		if p.id >= e.id {
			break
		}
		if index.Overlap(p.key, channel) {
			return false, nil
		}
	}
	return true, nil
}
