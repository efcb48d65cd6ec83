package strategies

import (
	"fmt"
	"sync"

	"wsfan/index"
)

// Client stands for a connection: the subscriber the index stores.
type Client struct {
	ID int

	// mu and held are the production index adapter's record of the
	// client's subscriptions (handles), as a connection keeps its own.
	mu   sync.Mutex
	held map[string]*index.Sub[*Client, struct{}]
}

// walk calls fn, unless nil, for each of subs and returns len(subs).
func walk(subs []*Client, fn func(*Client)) int {
	if fn != nil {
		for _, c := range subs {
			fn(c)
		}
	}
	return len(subs)
}

// unsubscribeEach is RemoveAll for a strategy that has no faster
// disconnect than one Unsubscribe per channel: it unsubscribes c from each
// of channels and returns how many c was on.
func unsubscribeEach(s Strategy, c *Client, channels []string) int {
	n := 0
	for _, ch := range channels {
		if s.Unsubscribe(ch, c) {
			n++
		}
	}
	return n
}

// Strategy is a subscription index for exact channels.
type Strategy interface {
	// Subscribe adds c to channel and reports whether it was new.
	Subscribe(channel string, c *Client) bool
	// Unsubscribe removes c from channel and reports whether it was there.
	Unsubscribe(channel string, c *Client) bool
	// RemoveAll removes c from each of channels, the client's own list,
	// and returns how many it removed: a disconnect.
	RemoveAll(c *Client, channels []string) int
	// Walk calls fn, unless nil, for each of channel's subscribers, as a
	// fan-out does, and returns how many there are. A snapshot design walks
	// its snapshot; the production index walks the channel under its lock.
	Walk(channel string, fn func(*Client)) int
	// Close releases what the strategy runs (the actor's goroutine).
	Close()
}

// Factory names a strategy and makes fresh instances of it.
type Factory struct {
	Name string
	New  func() Strategy
}

// All returns the five strategies the comparison runs; "striped16" is the
// production index with its default configuration. Names end in no "-N":
// go test appends "-N" for GOMAXPROCS N, except for 1.
func All() []Factory {
	return []Factory{
		{"rwmap", func() Strategy { return NewRWMap() }},
		Striped(index.DefaultShards),
		{"perchannel", func() Strategy { return NewPerChannel() }},
		{"syncmap", func() Strategy { return NewSyncMap() }},
		{"actor", func() Strategy { return NewActor() }},
	}
}

// ShardSweep returns the production index with the shard counts the sweep
// compares.
func ShardSweep() []Factory {
	var fs []Factory
	for _, n := range []int{4, 8, 16, 32, 64} {
		fs = append(fs, Striped(n))
	}
	return fs
}

// Striped returns the production index with n shards and the default
// configuration otherwise.
func Striped(n int) Factory {
	return Factory{fmt.Sprintf("striped%d", n), func() Strategy { return NewStriped(index.Config{Shards: n}) }}
}

// StripedCounting returns the production index with Config.CountLookups
// set, to show what the per-shard lookup counter costs.
func StripedCounting() Factory {
	return Factory{"striped16+count", func() Strategy {
		return NewStriped(index.Config{CountLookups: true})
	}}
}

// indexOf returns the position of c in subs, or -1.
func indexOf(subs []*Client, c *Client) int {
	for i, x := range subs {
		if x == c {
			return i
		}
	}
	return -1
}

// without returns a new snapshot holding subs minus its element i, as
// wsfan/index builds them.
func without(subs []*Client, i int) []*Client {
	n := len(subs) - 1
	c := cap(subs)
	if n < c/4 {
		c = 2 * n
	}
	next := make([]*Client, n, c)
	copy(next, subs[:i])
	copy(next[i:], subs[i+1:])
	return next
}
