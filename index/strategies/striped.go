package strategies

import "wsfan/index"

// StripedIndex adapts the production index, wsfan/index, to Strategy.
type StripedIndex struct {
	ix *index.Index[*Client]
}

// NewStriped returns the production index configured by cfg.
func NewStriped(cfg index.Config) *StripedIndex {
	return &StripedIndex{index.NewWith[*Client](cfg)}
}

// Index returns the wrapped index.
func (s *StripedIndex) Index() *index.Index[*Client] { return s.ix }

func (s *StripedIndex) Subscribe(channel string, c *Client) bool {
	return s.ix.Subscribe(channel, c)
}

func (s *StripedIndex) Unsubscribe(channel string, c *Client) bool {
	return s.ix.Unsubscribe(channel, c)
}

func (s *StripedIndex) RemoveAll(c *Client, channels []string) int {
	return s.ix.RemoveAll(c, channels)
}

// Lookup returns the exact subscribers: the benchmarks subscribe no pattern,
// so the pattern side costs Lookup its one atomic load.
func (s *StripedIndex) Lookup(channel string) []*Client {
	return s.ix.Lookup(channel).Exact
}

func (s *StripedIndex) Close() {}
