package index

import (
	"strings"
	"sync"
	"sync/atomic"
)

// pattern is one subscribed wildcard pattern and its subscribers.
type pattern[S comparable] struct {
	name string // owned by the index; the trie's map keys point into it

	// subs is the current snapshot; guarded by trie.mu. The invariant of
	// entry.subs holds: elements [0, len(subs)) are never written again.
	subs []S

	// ver changes whenever subs does. Written under trie.mu; cache hits
	// read it without the lock to see whether their snapshot is current.
	ver atomic.Uint64
}

// node is one level of the trie: the patterns whose first tokens spell the
// path from the root to it.
type node[S comparable] struct {
	lit  map[string]*node[S] // children by literal token; nil when none
	star *node[S]            // the child for a "*" token
	end  *pattern[S]         // the pattern whose last token leads here
	rest *pattern[S]         // the pattern "<path>.>" (">" alone at the root)
}

func (n *node[S]) empty() bool {
	return len(n.lit) == 0 && n.star == nil && n.end == nil && n.rest == nil
}

// child returns n's child for tok ("*" or a literal), creating it if asked.
func (n *node[S]) child(tok string, create bool) *node[S] {
	if tok == "*" {
		if n.star == nil && create {
			n.star = &node[S]{}
		}
		return n.star
	}
	c := n.lit[tok]
	if c == nil && create {
		if n.lit == nil {
			n.lit = make(map[string]*node[S])
		}
		c = &node[S]{}
		n.lit[tok] = c
	}
	return c
}

func (n *node[S]) removeChild(tok string) {
	if tok == "*" {
		n.star = nil
	} else {
		delete(n.lit, tok)
	}
}

// match appends to out the patterns under n that match s, the rest of a
// concrete channel (at least one token), with their current versions. A
// channel aligns with a pattern in at most one way, so no pattern is
// appended twice. The caller holds the trie's lock.
func (n *node[S]) match(s string, out []patternRef[S]) []patternRef[S] {
	if n.rest != nil {
		out = n.rest.ref(out) // ">" takes the one or more tokens left
	}
	tok, rest, more := strings.Cut(s, ".")
	if c := n.lit[tok]; c != nil {
		out = c.matchNext(rest, more, out)
	}
	if n.star != nil {
		out = n.star.matchNext(rest, more, out)
	}
	return out
}

func (n *node[S]) matchNext(rest string, more bool, out []patternRef[S]) []patternRef[S] {
	if more {
		return n.match(rest, out)
	}
	if n.end != nil {
		out = n.end.ref(out)
	}
	return out
}

// ref appends p and its current version to out.
func (p *pattern[S]) ref(out []patternRef[S]) []patternRef[S] {
	return append(out, patternRef[S]{p, p.ver.Load()})
}

// trie holds the wildcard subscriptions, as nats-server's sublist does: a
// token trie under one lock, in front of which sits a lock-free match cache.
type trie[S comparable] struct {
	// Read by every Lookup, written only when a pattern appears or goes.
	count atomic.Int64  // distinct patterns with at least one subscriber
	gen   atomic.Uint64 // bumped, under mu, whenever the set of patterns changes
	cache matchCache[S] // its slots are written on misses only

	_ [cacheLinePad]byte

	mu     sync.RWMutex
	root   node[S]                // guarded by mu
	byName map[string]*pattern[S] // guarded by mu

	subscriptions atomic.Int64 // (pattern, subscriber) pairs; changed under mu

	// Lock statistics, as a shard keeps them. Every write and every cache
	// miss (which takes the read lock) is timed: both are slow paths.
	writes, writeWaits, writeWaitNanos, writeHoldNanos atomic.Uint64
	misses, missWaits, missWaitNanos, missHoldNanos    atomic.Uint64
}

func (t *trie[S]) init(cacheSize int) {
	t.byName = make(map[string]*pattern[S])
	t.cache.init(cacheSize)
}

func (t *trie[S]) lock() int64 {
	if t.mu.TryLock() {
		t.writes.Add(1)
		return nanotime()
	}
	t0 := nanotime()
	t.mu.Lock()
	t1 := nanotime()
	t.writes.Add(1)
	t.writeWaits.Add(1)
	t.writeWaitNanos.Add(uint64(t1 - t0))
	return t1
}

func (t *trie[S]) unlock(locked int64) {
	t.writeHoldNanos.Add(uint64(nanotime() - locked))
	t.mu.Unlock()
}

// subscribe adds s to the pattern name and reports whether it was not
// there yet.
func (t *trie[S]) subscribe(name string, s S) bool {
	defer t.unlock(t.lock())
	p := t.byName[name]
	created := false
	switch {
	case p == nil:
		p = &pattern[S]{name: strings.Clone(name)}
		t.insert(p)
		t.byName[p.name] = p
		created = true
	case indexOf(p.subs, s) >= 0:
		return false
	}
	p.subs = append(p.subs, s) // in place past len is safe; see pattern.subs
	p.ver.Add(1)
	t.subscriptions.Add(1)
	if created {
		// After the insert: a Lookup that sees the new count or generation
		// finds the pattern in the trie.
		t.count.Add(1)
		t.gen.Add(1)
	}
	return true
}

// unsubscribe removes s from the pattern name and reports whether it was
// there. A pattern that loses its last subscriber leaves the trie.
func (t *trie[S]) unsubscribe(name string, s S) bool {
	defer t.unlock(t.lock())
	return t.unsubscribeLocked(name, s)
}

// removeAll removes s from each pattern in names under one lock and returns
// how many subscriptions it removed.
func (t *trie[S]) removeAll(s S, names []string) int {
	defer t.unlock(t.lock())
	removed := 0
	for _, name := range names {
		if t.unsubscribeLocked(name, s) {
			removed++
		}
	}
	return removed
}

func (t *trie[S]) unsubscribeLocked(name string, s S) bool {
	p := t.byName[name]
	if p == nil {
		return false
	}
	i := indexOf(p.subs, s)
	if i < 0 {
		return false
	}
	t.subscriptions.Add(-1)
	if len(p.subs) > 1 {
		p.subs = without(p.subs, i)
		p.ver.Add(1)
		return true
	}
	// The pattern's last subscriber: its snapshot stays what readers hold,
	// and the generation tells cached matches that it is gone.
	t.delete(p)
	delete(t.byName, name)
	t.count.Add(-1)
	t.gen.Add(1)
	return true
}

// insert adds p at the end of its path, creating the nodes on the way.
func (t *trie[S]) insert(p *pattern[S]) {
	n, s := &t.root, p.name
	for {
		tok, rest, more := strings.Cut(s, ".")
		if tok == ">" && !more {
			n.rest = p
			return
		}
		n = n.child(tok, true)
		if !more {
			n.end = p
			return
		}
		s = rest
	}
}

// delete takes p out of the trie and prunes the nodes left empty.
func (t *trie[S]) delete(p *pattern[S]) {
	type step struct {
		parent *node[S]
		tok    string
	}
	var buf [MaxTokens]step
	path := buf[:0]
	n, s := &t.root, p.name
	for {
		tok, rest, more := strings.Cut(s, ".")
		if tok == ">" && !more {
			n.rest = nil
			break
		}
		path = append(path, step{n, tok})
		n = n.child(tok, false)
		if !more {
			n.end = nil
			break
		}
		s = rest
	}
	for i := len(path) - 1; i >= 0; i-- {
		st := path[i]
		if !st.parent.child(st.tok, false).empty() {
			break
		}
		st.parent.removeChild(st.tok)
	}
}

// lookup returns the answer for the concrete channel, whose hash is h, or
// nil when no pattern matches it: from the cache when it holds a current
// answer (no lock, no allocation), else from the trie under the read lock.
func (t *trie[S]) lookup(channel string, h uint32) *cached[S] {
	gen := t.gen.Load()
	set := t.cache.set(h)
	c, ok := t.cache.get(set, channel, h, gen)
	if !ok {
		c = t.match(channel, h)
		t.cache.put(set, c)
	}
	if c.snaps == nil {
		return nil
	}
	return c
}

// match walks the trie for channel, of hash h, under the read lock and
// returns the answer to cache.
func (t *trie[S]) match(channel string, h uint32) *cached[S] {
	var t1 int64
	if t.mu.TryRLock() {
		t1 = nanotime()
	} else {
		t0 := nanotime()
		t.mu.RLock()
		t1 = nanotime()
		t.missWaits.Add(1)
		t.missWaitNanos.Add(uint64(t1 - t0))
	}
	// Under the read lock the generation and every pattern's snapshot and
	// version are consistent with the trie.
	c := &cached[S]{hash: h, gen: t.gen.Load(), channel: strings.Clone(channel)}
	c.pats = t.root.match(channel, nil)
	if len(c.pats) > 0 {
		c.snaps = make([][]S, len(c.pats))
		for i, r := range c.pats {
			c.snaps[i] = r.p.subs[:len(r.p.subs):len(r.p.subs)]
		}
	}
	t.mu.RUnlock()
	t.missHoldNanos.Add(uint64(nanotime() - t1))
	t.misses.Add(1)
	return c
}
