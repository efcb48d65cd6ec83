package loop

import (
	"strings"
	"sync"
	"time"
)

const (
	// chanShards stripes the per-channel publication state; power of two.
	chanShards = 64
	// chanStateTTL: the state (seq) of a channel with no subscribers and no
	// publication for this long is dropped; its seq then restarts at 1.
	chanStateTTL = 10 * time.Minute
)

// chanState is one channel's publication state. mu serialises the
// channel's publications, so every subscriber gets them in seq order.
type chanState struct {
	mu      sync.Mutex
	seq     uint64 // last seq handed out; guarded by mu
	lastPub int64  // UnixNano of the last publication; guarded by mu
	dead    bool   // removed from the table by the sweeper; guarded by mu
	gaps    uint64 // the bus's Gaps() when seq last moved; guarded by mu
	// hist holds the last publications when the channel keeps history
	// (fixed when the state is created); guarded by mu.
	hist *history
}

type chanShard struct {
	mu sync.Mutex
	m  map[string]*chanState
	_  [40]byte // keep neighbouring shard locks off one cache line
}

// channelTable maps channel names to their publication state.
type channelTable struct {
	shards [chanShards]chanShard
	// newState makes the state of a channel seen for the first time.
	newState func(channel string) *chanState
}

func newChannelTable(newState func(channel string) *chanState) *channelTable {
	t := &channelTable{newState: newState}
	for i := range t.shards {
		t.shards[i].m = make(map[string]*chanState)
	}
	return t
}

func (t *channelTable) shard(channel string) *chanShard {
	h := uint32(2166136261)
	for i := 0; i < len(channel); i++ {
		h ^= uint32(channel[i])
		h *= 16777619
	}
	return &t.shards[(h^h>>16)&(chanShards-1)]
}

// lock returns channel's state, created on first use, with its mu held.
func (t *channelTable) lock(channel string) *chanState {
	sh := t.shard(channel)
	for {
		sh.mu.Lock()
		st := sh.m[channel]
		if st == nil {
			st = t.newState(channel)
			sh.m[strings.Clone(channel)] = st
		}
		sh.mu.Unlock()
		st.mu.Lock()
		if !st.dead {
			return st
		}
		st.mu.Unlock() // lost a race with the sweeper; take the new one
	}
}

// len returns the number of channels with state.
func (t *channelTable) len() int {
	n := 0
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}

// sweep drops the state of channels idle since before cutoff (UnixNano)
// for which unused reports no subscribers. A state busy publishing is
// skipped, not waited for.
func (t *channelTable) sweep(cutoff int64, unused func(channel string) bool) (dropped int) {
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		for ch, st := range sh.m {
			if !st.mu.TryLock() {
				continue
			}
			if st.lastPub < cutoff && unused(ch) {
				st.dead = true
				if st.hist != nil {
					st.hist.release()
				}
				delete(sh.m, ch)
				dropped++
			}
			st.mu.Unlock()
		}
		sh.mu.Unlock()
	}
	return dropped
}
