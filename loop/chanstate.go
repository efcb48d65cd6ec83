package loop

import (
	"strconv"
	"strings"
	"time"

	"wsfan/codec"
	"wsfan/index"
)

// chanStateTTL: an entry with no subscriber is kept this long after its last
// publication, so that its seq goes on where it was for whoever subscribes
// next; then it is dropped and a new one starts at 1 (a history channel's
// with a new epoch).
const chanStateTTL = 10 * time.Minute

// channel is a channel's or a pattern's entry in the index: its subscribers
// and, for a channel, its chanState. sub is one subscription's handle.
type (
	channel = index.Channel[*client, chanState]
	sub     = index.Sub[*client, chanState]
)

// chanState is a channel's publication state, in its index entry and
// guarded by the entry's lock: a publisher holds it for the whole fan-out,
// so every subscriber gets the channel's publications in seq order.
type chanState struct {
	seq     uint64 // last seq handed out
	lastPub int64  // UnixNano of the last publication
	gaps    uint64 // the bus's Gaps() when seq last moved
	// history is set up once (histSet): hist is nil until the first
	// publication of a channel [history] covers, and epoch names this
	// incarnation of the channel's history in positions.
	histSet bool
	histOn  bool
	hist    *history
	epoch   string
}

// prepare sets up st for ch the first time the server uses it.
func (s *Server) prepare(ch *channel) *chanState {
	st := &ch.State
	if !st.histSet {
		st.histSet = true
		if st.histOn = s.historyEnabled(ch.Name()); st.histOn {
			st.epoch = s.epoch + "." + strconv.FormatUint(s.incarnations.Add(1), 36)
		}
	}
	return st
}

// sameNumbering reports whether a client's position since counts in st's
// numbering: it names st's incarnation, or it is a position at seq 0 from
// this node's run, which has seen nothing of any numbering (a channel left
// before its first publication is dropped, and the next subscribe or
// publication makes a new entry, starting again at 1).
func (s *Server) sameNumbering(since codec.Since, st *chanState) bool {
	return since.Epoch == st.epoch || (since.Seq == 0 && strings.HasPrefix(since.Epoch, s.epoch+"."))
}

// worthKeeping reports whether an entry left without subscribers must stay:
// its seq was used within chanStateTTL (or history.ttl, when longer), so
// that the numbering, and the history a reconnecting client may recover,
// go on. A channel nobody ever published to (a name a client made up) is
// never worth keeping.
func (s *Server) worthKeeping(st *chanState, now int64) bool {
	return st.seq > 0 && now-st.lastPub < int64(max(chanStateTTL, s.cfg.History.TTL))
}

// leaveLocked removes h's member from its channel and drops the entry when
// it is left empty and not worth keeping. The caller holds the entry's lock.
func (s *Server) leaveLocked(h *sub, now int64) {
	ch := h.Channel()
	ch.Remove(h)
	if ch.Len() == 0 && (ch.IsPattern() || !s.worthKeeping(&ch.State, now)) {
		ch.State.releaseHistory()
		s.idx.Drop(ch)
	}
}

// sweepShard visits the channels of one index shard: those without
// subscribers past chanStateTTL are dropped, and history entries older than
// history.ttl let go of their memory. The heartbeat sweeps one shard per
// tick, so no sweep touches every channel at once.
func (s *Server) sweepShard(i int, now time.Time) {
	nowNano := now.UnixNano()
	notBefore := now.Add(-s.cfg.History.TTL).UnixNano()
	s.idx.Range(i, func(ch *channel) {
		if !ch.TryLock() { // busy publishing: next round
			return
		}
		defer ch.Unlock()
		if ch.Dead() {
			return
		}
		st := &ch.State
		if st.hist != nil {
			st.hist.expire(notBefore)
		}
		if ch.Len() == 0 && !s.worthKeeping(st, nowNano) {
			st.releaseHistory()
			s.idx.Drop(ch)
		}
	})
}

// releaseHistory returns the ring's memory to the accounting.
func (st *chanState) releaseHistory() {
	if st.hist != nil {
		st.hist.release()
		st.hist = nil
	}
}
