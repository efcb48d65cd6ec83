package index

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"wsfan/lib/cacheline"
	"wsfan/lib/monotime"
)

// node is one level of the trie: the patterns whose first tokens spell the
// path from the root to it.
type node[S comparable, V any] struct {
	lit  map[string]*node[S, V] // children by literal token; nil when none
	star *node[S, V]            // the child for a "*" token
	end  *Channel[S, V]         // the pattern whose last token leads here
	rest *Channel[S, V]         // the pattern "<path>.>" (">" alone at the root)
}

func (n *node[S, V]) empty() bool {
	return len(n.lit) == 0 && n.star == nil && n.end == nil && n.rest == nil
}

// child returns n's child for tok ("*" or a literal), creating it if asked.
func (n *node[S, V]) child(tok string, create bool) *node[S, V] {
	if tok == "*" {
		if n.star == nil && create {
			n.star = &node[S, V]{}
		}
		return n.star
	}
	c := n.lit[tok]
	if c == nil && create {
		if n.lit == nil {
			n.lit = make(map[string]*node[S, V])
		}
		c = &node[S, V]{}
		n.lit[tok] = c
	}
	return c
}

func (n *node[S, V]) removeChild(tok string) {
	if tok == "*" {
		n.star = nil
	} else {
		delete(n.lit, tok)
	}
}

// match appends to out the patterns under n that match s, the rest of a
// concrete channel (at least one token). A channel aligns with a pattern in
// at most one way, so no pattern is appended twice. The caller holds the
// trie's lock.
func (n *node[S, V]) match(s string, out []*Channel[S, V]) []*Channel[S, V] {
	if n.rest != nil {
		out = append(out, n.rest) // ">" takes the one or more tokens left
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

func (n *node[S, V]) matchNext(rest string, more bool, out []*Channel[S, V]) []*Channel[S, V] {
	if more {
		return n.match(rest, out)
	}
	if n.end != nil {
		out = append(out, n.end)
	}
	return out
}

// trie holds the wildcard subscriptions, as nats-server's sublist does: a
// token trie under one lock, in front of which sits a lock-free match cache.
type trie[S comparable, V any] struct {
	// Read by every Lookup, written only when a pattern appears or goes.
	count atomic.Int64     // patterns held
	gen   atomic.Uint64    // bumped, under mu, whenever the set of patterns changes
	cache matchCache[S, V] // its slots are written on misses only

	_ cacheline.Pad

	mu     sync.RWMutex
	root   node[S, V]                // guarded by mu
	byName map[string]*Channel[S, V] // guarded by mu

	counts counts // kept by the patterns, each under its own lock

	// Lock statistics, as a shard keeps them. Every write and every cache
	// miss (which takes the read lock) is timed: both are slow paths.
	writes, writeWaits, writeWaitNanos, writeHoldNanos atomic.Uint64
	misses, missWaits, missWaitNanos, missHoldNanos    atomic.Uint64
}

func (t *trie[S, V]) init(cacheSize int) {
	t.byName = make(map[string]*Channel[S, V])
	t.cache.init(cacheSize)
}

func (t *trie[S, V]) lock() int64 {
	if t.mu.TryLock() {
		t.writes.Add(1)
		return monotime.Now()
	}
	t0 := monotime.Now()
	t.mu.Lock()
	t1 := monotime.Now()
	t.writes.Add(1)
	t.writeWaits.Add(1)
	t.writeWaitNanos.Add(uint64(t1 - t0))
	return t1
}

func (t *trie[S, V]) unlock(locked int64) {
	t.writeHoldNanos.Add(uint64(monotime.Now() - locked))
	t.mu.Unlock()
}

// acquire returns the pattern name's entry, creating it when absent.
func (t *trie[S, V]) acquire(name string) *Channel[S, V] {
	if p := t.get(name); p != nil {
		return p
	}
	defer t.unlock(t.lock())
	p := t.byName[name]
	if p == nil {
		p = &Channel[S, V]{name: strings.Clone(name), pattern: true, counts: &t.counts}
		t.insert(p)
		t.byName[p.name] = p
		// After the insert: a Lookup that sees the new count or generation
		// finds the pattern in the trie.
		t.count.Add(1)
		t.gen.Add(1)
	}
	return p
}

// get returns the pattern name's entry, or nil, under the read lock.
func (t *trie[S, V]) get(name string) *Channel[S, V] {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.byName[name]
}

// drop takes p out of the trie; its cached matches go stale.
func (t *trie[S, V]) drop(p *Channel[S, V]) {
	defer t.unlock(t.lock())
	if t.byName[p.name] != p {
		return
	}
	t.delete(p)
	delete(t.byName, p.name)
	t.count.Add(-1)
	t.gen.Add(1)
}

// insert adds p at the end of its path, creating the nodes on the way.
func (t *trie[S, V]) insert(p *Channel[S, V]) {
	field, _ := t.slot(p.name, true, nil)
	*field = p
}

// delete takes p out of the trie and prunes the nodes left empty.
func (t *trie[S, V]) delete(p *Channel[S, V]) {
	var buf [MaxTokens]step[S, V]
	field, path := t.slot(p.name, false, buf[:0])
	*field = nil
	for i := len(path) - 1; i >= 0; i-- {
		st := path[i]
		if !st.parent.child(st.tok, false).empty() {
			break
		}
		st.parent.removeChild(st.tok)
	}
}

// step is one move down the trie: from parent, by the token tok.
type step[S comparable, V any] struct {
	parent *node[S, V]
	tok    string
}

// slot returns the field that holds the pattern name: the rest of the node
// its tokens before a last ">" lead to, else the end of the node all its
// tokens lead to. On the way it creates the missing nodes when create is
// set (else they must exist) and, unless path is nil, appends each step it
// takes to path, which it returns.
func (t *trie[S, V]) slot(name string, create bool, path []step[S, V]) (**Channel[S, V], []step[S, V]) {
	n, s := &t.root, name
	for {
		tok, rest, more := strings.Cut(s, ".")
		if tok == ">" && !more {
			return &n.rest, path
		}
		if path != nil {
			path = append(path, step[S, V]{n, tok})
		}
		n = n.child(tok, create)
		if !more {
			return &n.end, path
		}
		s = rest
	}
}

// lookup returns the answer for the concrete channel, whose hash is h, or
// nil when no pattern matches it: from the cache when it holds a current
// answer (no lock, no allocation), else from the trie under the read lock.
func (t *trie[S, V]) lookup(channel string, h uint32) *cached[S, V] {
	gen := t.gen.Load()
	set := t.cache.set(h)
	c, ok := t.cache.get(set, channel, h, gen)
	if !ok {
		c = t.match(channel, h)
		t.cache.put(set, c)
	}
	if len(c.pats) == 0 {
		return nil
	}
	return c
}

// match walks the trie for channel, of hash h, under the read lock and
// returns the answer to cache.
func (t *trie[S, V]) match(channel string, h uint32) *cached[S, V] {
	var t1 int64
	if t.mu.TryRLock() {
		t1 = monotime.Now()
	} else {
		t0 := monotime.Now()
		t.mu.RLock()
		t1 = monotime.Now()
		t.missWaits.Add(1)
		t.missWaitNanos.Add(uint64(t1 - t0))
	}
	// Under the read lock the generation is consistent with the trie.
	c := &cached[S, V]{hash: h, gen: t.gen.Load(), channel: strings.Clone(channel)}
	c.pats = t.root.match(channel, nil)
	t.mu.RUnlock()
	// In lock order (by name), so that a publisher can hold them all.
	slices.SortFunc(c.pats, func(a, b *Channel[S, V]) int { return strings.Compare(a.name, b.name) })
	t.missHoldNanos.Add(uint64(monotime.Now() - t1))
	t.misses.Add(1)
	return c
}
