package strategies

import "wsfan/index"

// StripedIndex adapts the production index, wsfan/index, to Strategy: it
// keeps each client's handles in the client, as a connection does, and
// drops a channel that loses its last subscriber.
type StripedIndex struct {
	ix *index.Index[*Client, struct{}]
}

// NewStriped returns the production index configured by cfg.
func NewStriped(cfg index.Config) *StripedIndex {
	return &StripedIndex{index.NewWith[*Client, struct{}](cfg)}
}

// Index returns the wrapped index.
func (s *StripedIndex) Index() *index.Index[*Client, struct{}] { return s.ix }

func (s *StripedIndex) Subscribe(channel string, c *Client) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held[channel] != nil {
		return false
	}
	if c.held == nil {
		c.held = map[string]*index.Sub[*Client, struct{}]{}
	}
	ch := s.ix.Acquire(channel)
	c.held[channel] = ch.Add(c)
	ch.Unlock()
	return true
}

func (s *StripedIndex) Unsubscribe(channel string, c *Client) bool {
	c.mu.Lock()
	h := c.held[channel]
	delete(c.held, channel)
	c.mu.Unlock()
	if h == nil {
		return false
	}
	s.leave(h)
	return true
}

func (s *StripedIndex) leave(h *index.Sub[*Client, struct{}]) {
	ch := h.Channel()
	ch.Lock()
	ch.Remove(h)
	if ch.Len() == 0 {
		s.ix.Drop(ch)
	}
	ch.Unlock()
}

func (s *StripedIndex) RemoveAll(c *Client, channels []string) int {
	return unsubscribeEach(s, c, channels)
}

// Walk finds the channel and walks it under its lock, as a fan-out does:
// the benchmarks subscribe no pattern, so the pattern side costs Lookup its
// one atomic load.
func (s *StripedIndex) Walk(channel string, fn func(*Client)) int {
	ch := s.ix.Lookup(channel).Channel
	if ch == nil {
		return 0
	}
	ch.RLock()
	n := walk(ch.Members(), fn)
	ch.RUnlock()
	return n
}

func (s *StripedIndex) Close() {}
