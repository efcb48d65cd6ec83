package conn

import (
	"wsfan/chanstate"
	"wsfan/index"
)

// Sub is one subscription's handle in the index; Entry is the index entry
// of a channel or a pattern, whose State a publisher uses.
type (
	Sub   = index.Sub[*Conn, chanstate.State]
	Entry = index.Channel[*Conn, chanstate.State]
)

// smallSubs is how many subscriptions a Subs keeps in a slice, searched
// by name; past it they move to a map. Most connections hold a handful:
// a slice of 4 handles takes 32 bytes, a map of 4 about 250.
const smallSubs = 8

// Subs is a connection's subscriptions by name, each with its handle in
// the index. Not safe for concurrent use: the Conn guards it (see Conn.Subs).
type Subs struct {
	list []*Sub          // when at most smallSubs
	m    map[string]*Sub // when more; list is nil then
}

// Get returns the handle of name, or nil.
func (s *Subs) Get(name string) *Sub {
	if s.m != nil {
		return s.m[name]
	}
	for _, h := range s.list {
		if h.Channel().Name() == name {
			return h
		}
	}
	return nil
}

// Add records h, whose name the set does not hold.
func (s *Subs) Add(h *Sub) {
	switch {
	case s.m != nil:
		s.m[h.Channel().Name()] = h
	case len(s.list) < smallSubs:
		s.list = append(s.list, h)
	default:
		s.m = make(map[string]*Sub, 2*smallSubs)
		for _, x := range s.list {
			s.m[x.Channel().Name()] = x
		}
		s.m[h.Channel().Name()] = h
		s.list = nil
	}
}

// Remove forgets name and returns its handle, or nil.
func (s *Subs) Remove(name string) *Sub {
	if s.m != nil {
		h := s.m[name]
		delete(s.m, name)
		return h
	}
	for i, h := range s.list {
		if h.Channel().Name() == name {
			last := len(s.list) - 1
			s.list[i] = s.list[last]
			s.list[last] = nil
			s.list = s.list[:last]
			return h
		}
	}
	return nil
}

// Len returns the number of subscriptions.
func (s *Subs) Len() int {
	if s.m != nil {
		return len(s.m)
	}
	return len(s.list)
}

// All calls fn for each handle.
func (s *Subs) All(fn func(h *Sub)) {
	if s.m != nil {
		for _, h := range s.m {
			fn(h)
		}
		return
	}
	for _, h := range s.list {
		fn(h)
	}
}
