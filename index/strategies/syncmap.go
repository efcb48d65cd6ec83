package strategies

import (
	"strings"
	"sync"
	"sync/atomic"
)

// SyncMap keeps channels in a sync.Map; each entry's subscriber slice is
// replaced whole by copy and compare-and-swap, so nothing takes a lock. An
// entry whose last subscriber leaves is marked dead before it is deleted,
// and a Subscribe that meets a dead entry starts over.
type SyncMap struct {
	m sync.Map // string -> *casEntry
}

type casEntry struct {
	subs atomic.Pointer[[]*Client] // never appended to in place; deadSubs once emptied
}

// deadSubs marks an entry removed from the map.
var deadSubs = &[]*Client{}

func NewSyncMap() *SyncMap { return &SyncMap{} }

func (s *SyncMap) Subscribe(channel string, c *Client) bool {
	for {
		v, ok := s.m.Load(channel)
		if !ok {
			e := &casEntry{}
			e.subs.Store(&[]*Client{c})
			if v, ok = s.m.LoadOrStore(strings.Clone(channel), e); !ok {
				return true
			}
		}
		e := v.(*casEntry)
		for {
			old := e.subs.Load()
			if old == deadSubs {
				s.m.CompareAndDelete(channel, e)
				break // start over with a fresh entry
			}
			if indexOf(*old, c) >= 0 {
				return false
			}
			// Two writers may hold the same old: each must build its own
			// array, or the loser would write into the winner's snapshot.
			next := make([]*Client, len(*old)+1)
			copy(next, *old)
			next[len(*old)] = c
			if e.subs.CompareAndSwap(old, &next) {
				return true
			}
		}
	}
}

func (s *SyncMap) Unsubscribe(channel string, c *Client) bool {
	v, ok := s.m.Load(channel)
	if !ok {
		return false
	}
	e := v.(*casEntry)
	for {
		old := e.subs.Load()
		if old == deadSubs {
			return false
		}
		i := indexOf(*old, c)
		if i < 0 {
			return false
		}
		if len(*old) == 1 {
			if e.subs.CompareAndSwap(old, deadSubs) {
				s.m.CompareAndDelete(channel, e)
				return true
			}
			continue
		}
		next := without(*old, i)
		if e.subs.CompareAndSwap(old, &next) {
			return true
		}
	}
}

func (s *SyncMap) RemoveAll(c *Client, channels []string) int {
	return unsubscribeEach(s, c, channels)
}

func (s *SyncMap) Walk(channel string, fn func(*Client)) int {
	v, ok := s.m.Load(channel)
	if !ok {
		return 0
	}
	return walk(*v.(*casEntry).subs.Load(), fn) // deadSubs is empty
}

func (s *SyncMap) Close() {}
