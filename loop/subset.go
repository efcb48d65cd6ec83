package loop

// smallSubs is how many subscriptions a subSet keeps in a slice, searched
// by name; past it they move to a map. Most connections hold a handful:
// a slice of 4 handles takes 32 bytes, a map of 4 about 250.
const smallSubs = 8

// subSet is a connection's subscriptions by name, each with its handle in
// the index. Not safe for concurrent use: the client guards it.
type subSet struct {
	list []*sub          // when at most smallSubs
	m    map[string]*sub // when more; list is nil then
}

// get returns the handle of name, or nil.
func (s *subSet) get(name string) *sub {
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

// add records h, whose name the set does not hold.
func (s *subSet) add(h *sub) {
	switch {
	case s.m != nil:
		s.m[h.Channel().Name()] = h
	case len(s.list) < smallSubs:
		s.list = append(s.list, h)
	default:
		s.m = make(map[string]*sub, 2*smallSubs)
		for _, x := range s.list {
			s.m[x.Channel().Name()] = x
		}
		s.m[h.Channel().Name()] = h
		s.list = nil
	}
}

// remove forgets name and returns its handle, or nil.
func (s *subSet) remove(name string) *sub {
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

// len returns the number of subscriptions.
func (s *subSet) len() int {
	if s.m != nil {
		return len(s.m)
	}
	return len(s.list)
}

// all calls fn for each handle.
func (s *subSet) all(fn func(h *sub)) {
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
