package strategies

import (
	"sync"
	"sync/atomic"
)

// Set is one channel's subscribers as a design keeps them: the part of the
// index that a subscribe, an unsubscribe and a fan-out touch once the
// channel is found. Add returns the handle Remove takes; designs that need
// none return nil. Every method is safe for concurrent use; Walk is a
// fan-out and sees each member present during the whole walk exactly once.
type Set interface {
	Add(c *Client) *Handle
	Remove(c *Client, h *Handle)
	Walk(fn func(*Client))
	Len() int
}

// Handle is a member's place in a Set, for designs that remove in O(1).
type Handle struct {
	c *Client
	i int // the member's index; guarded by the set's lock
}

// SetFactory names a Set design.
type SetFactory struct {
	Name string
	New  func() Set
}

// SetDesigns returns the designs compared for issue 11 (docs/BENCHMARKS.md):
//
//   - cow: the index before it, an immutable snapshot replaced on every
//     change; Remove copies the snapshot, O(n); Walk takes no lock;
//   - dense: a slice and a handle per member under the channel's lock;
//     Remove moves the last member into the hole, O(1); Walk holds the
//     lock (the fan-out holds the channel's lock for seq order anyway);
//   - lazy: nats-server's sublist way, the dense set plus a snapshot built
//     by the first Walk after a change, O(n) then, and lock-free after;
//   - tombstone: atomic slots, a removed member's slot cleared in O(1),
//     compacted when half are dead (O(1) amortized); Walk takes no lock
//     and skips the cleared slots.
func SetDesigns() []SetFactory {
	return []SetFactory{
		{"cow", func() Set { return &cowSet{} }},
		{"dense", func() Set { return &denseSet{} }},
		{"lazy", func() Set { return &lazySet{} }},
		{"tombstone", func() Set { return &tombSet{} }},
	}
}

// cowSet is the copy-on-write snapshot the index used.
type cowSet struct {
	mu   sync.Mutex
	snap atomic.Pointer[[]*Client]
}

func (s *cowSet) load() []*Client {
	if p := s.snap.Load(); p != nil {
		return *p
	}
	return nil
}

func (s *cowSet) Add(c *Client) *Handle {
	s.mu.Lock()
	next := append(s.load(), c) // in place past len: readers never see it
	s.snap.Store(&next)
	s.mu.Unlock()
	return nil
}

func (s *cowSet) Remove(c *Client, _ *Handle) {
	s.mu.Lock()
	if cur := s.load(); indexOf(cur, c) >= 0 {
		next := without(cur, indexOf(cur, c))
		s.snap.Store(&next)
	}
	s.mu.Unlock()
}

func (s *cowSet) Walk(fn func(*Client)) {
	for _, c := range s.load() {
		fn(c)
	}
}

func (s *cowSet) Len() int { return len(s.load()) }

// denseSet is a slice with a handle per member, all under one lock.
type denseSet struct {
	mu      sync.Mutex
	members []*Client
	handles []*Handle
}

func (s *denseSet) Add(c *Client) *Handle {
	s.mu.Lock()
	h := s.addLocked(c)
	s.mu.Unlock()
	return h
}

func (s *denseSet) addLocked(c *Client) *Handle {
	h := &Handle{c: c, i: len(s.members)}
	s.members = append(s.members, c)
	s.handles = append(s.handles, h)
	return h
}

func (s *denseSet) Remove(_ *Client, h *Handle) {
	s.mu.Lock()
	s.removeLocked(h)
	s.mu.Unlock()
}

func (s *denseSet) removeLocked(h *Handle) {
	last := len(s.members) - 1
	moved := s.handles[last]
	s.members[h.i], s.handles[h.i] = s.members[last], moved
	moved.i = h.i
	s.members[last], s.handles[last] = nil, nil
	s.members, s.handles = s.members[:last], s.handles[:last]
}

func (s *denseSet) Walk(fn func(*Client)) {
	s.mu.Lock()
	for _, c := range s.members {
		fn(c)
	}
	s.mu.Unlock()
}

func (s *denseSet) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.members)
}

// lazySet is denseSet plus a snapshot rebuilt by the first Walk after a
// change.
type lazySet struct {
	denseSet
	snap atomic.Pointer[[]*Client] // nil while stale
}

func (s *lazySet) Add(c *Client) *Handle {
	s.mu.Lock()
	h := s.addLocked(c)
	s.snap.Store(nil)
	s.mu.Unlock()
	return h
}

func (s *lazySet) Remove(_ *Client, h *Handle) {
	s.mu.Lock()
	s.removeLocked(h)
	s.snap.Store(nil)
	s.mu.Unlock()
}

func (s *lazySet) Walk(fn func(*Client)) {
	p := s.snap.Load()
	if p == nil {
		s.mu.Lock()
		if p = s.snap.Load(); p == nil {
			snap := append([]*Client(nil), s.members...)
			p = &snap
			s.snap.Store(p)
		}
		s.mu.Unlock()
	}
	for _, c := range *p {
		fn(c)
	}
}

// tombSet keeps members in atomic slots; Remove clears one.
type tombSet struct {
	mu      sync.Mutex
	slots   atomic.Pointer[tombSlots]
	handles []*Handle // handles[i] is slot i's member's; nil for a cleared slot; guarded by mu
	dead    int       // cleared slots in the current array; guarded by mu
}

type tombSlots struct {
	s []atomic.Pointer[Client] // fixed length
	n atomic.Int64             // slots in use, [0, n)
}

func (s *tombSet) Add(c *Client) *Handle {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.slots.Load()
	if cur == nil || int(cur.n.Load()) == len(cur.s) {
		cur = s.rebuild(cur)
	}
	n := cur.n.Load()
	h := &Handle{c: c, i: int(n)}
	cur.s[n].Store(c)
	s.handles = append(s.handles, h)
	cur.n.Store(n + 1)
	return h
}

// rebuild publishes a new array holding the live members of cur, with room
// for as many again, and renumbers their handles. The caller holds mu.
func (s *tombSet) rebuild(cur *tombSlots) *tombSlots {
	live := len(s.handles) - s.dead
	next := &tombSlots{s: make([]atomic.Pointer[Client], max(8, 2*live))}
	handles := make([]*Handle, 0, cap(next.s))
	for _, h := range s.handles {
		if h != nil {
			h.i = len(handles)
			next.s[h.i].Store(h.c)
			handles = append(handles, h)
		}
	}
	next.n.Store(int64(len(handles)))
	s.handles, s.dead = handles, 0
	s.slots.Store(next)
	return next
}

func (s *tombSet) Remove(_ *Client, h *Handle) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.slots.Load()
	cur.s[h.i].Store(nil)
	s.handles[h.i] = nil
	s.dead++
	if s.dead > 16 && s.dead > len(s.handles)/2 {
		s.rebuild(cur)
	}
}

func (s *tombSet) Walk(fn func(*Client)) {
	cur := s.slots.Load()
	if cur == nil {
		return
	}
	n := cur.n.Load()
	for i := int64(0); i < n; i++ {
		if c := cur.s[i].Load(); c != nil {
			fn(c)
		}
	}
}

func (s *tombSet) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.handles) - s.dead
}
