package loop

import (
	"crypto/rand"
	"encoding/base64"
	"slices"
	"strings"
	"sync/atomic"

	"wsfan/index"
)

// histEntry is one publication kept for recovery: its seq, when it was
// accepted, and its ready WebSocket frame (replayed as is).
type histEntry struct {
	seq   uint64
	nanos int64
	frame []byte
}

// history is a channel's ring of its last publications. It is guarded by
// the channel's chanState.mu. Entry buffers are reused as the ring turns.
type history struct {
	ring  []histEntry
	next  int // slot of the next entry
	count int // entries held, at most len(ring)
	bytes *atomic.Int64
}

func newHistory(size int, bytes *atomic.Int64) *history {
	return &history{ring: make([]histEntry, size), bytes: bytes}
}

// add keeps frame (copied) as publication seq.
func (h *history) add(seq uint64, nanos int64, frame []byte) {
	e := &h.ring[h.next]
	old := cap(e.frame)
	e.seq, e.nanos = seq, nanos
	e.frame = append(e.frame[:0], frame...)
	h.bytes.Add(int64(cap(e.frame) - old))
	h.next = (h.next + 1) % len(h.ring)
	if h.count < len(h.ring) {
		h.count++
	}
}

// holds reports whether every publication after seq is still held: none
// evicted, none older than notBefore. latest is the channel's last seq.
func (h *history) holds(seq, latest uint64, notBefore int64) bool {
	if seq > latest {
		return false
	}
	missed := latest - seq
	if missed == 0 {
		return true
	}
	if missed > uint64(h.count) {
		return false
	}
	e := &h.ring[h.first(missed)]
	return e.seq == seq+1 && e.nanos >= notBefore
}

// each calls fn, oldest first, with the frame of every publication after
// seq; holds must have reported them all held.
func (h *history) each(seq, latest uint64, fn func(frame []byte)) {
	missed := latest - seq
	first := h.first(missed)
	for i := 0; i < int(missed); i++ {
		fn(h.ring[(first+i)%len(h.ring)].frame)
	}
}

// first is the slot of the oldest of the last n entries.
func (h *history) first(n uint64) int {
	return (h.next - int(n) + len(h.ring)) % len(h.ring)
}

// release returns the ring's memory to the accounting when the channel's
// state is dropped.
func (h *history) release() {
	var n int
	for i := range h.ring {
		n += cap(h.ring[i].frame)
	}
	h.bytes.Add(-int64(n))
}

// newEpoch returns a random node epoch: it changes at every start, so a
// position from another run or another node is never taken for this one's.
func newEpoch() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// patternMatch reports whether a concrete channel matches a pattern: '*'
// matches one token, a trailing '>' one or more.
func patternMatch(pattern, channel string) bool {
	for {
		pt, prest, pmore := strings.Cut(pattern, ".")
		ct, crest, cmore := strings.Cut(channel, ".")
		switch {
		case pt == ">" && !pmore:
			return true
		case pt != "*" && pt != ct:
			return false
		case !pmore || !cmore:
			return pmore == cmore
		}
		pattern, channel = prest, crest
	}
}

// historyEnabled reports whether channel keeps history.
func (s *Server) historyEnabled(channel string) bool {
	for _, p := range s.cfg.History.Channels {
		if patternMatch(p, channel) {
			return true
		}
	}
	return false
}

// lockedChannels are the history channels a subscribe holds locked.
type lockedChannels struct {
	names  []string
	states []*chanState
}

// lockHistoryChannels locks the publication state of each distinct
// concrete channel in channels that keeps history, in name order (the
// order every multi-channel locker uses; publishers hold one at a time).
func (s *Server) lockHistoryChannels(channels []string) lockedChannels {
	var l lockedChannels
	if len(s.cfg.History.Channels) == 0 {
		return l
	}
	for _, ch := range channels {
		if index.ValidChannel(ch) && s.historyEnabled(ch) && !slices.Contains(l.names, ch) {
			l.names = append(l.names, ch)
		}
	}
	slices.Sort(l.names)
	for _, ch := range l.names {
		l.states = append(l.states, s.chans.lock(ch))
	}
	return l
}

// state returns channel's locked state, or nil when it keeps no history.
func (l lockedChannels) state(channel string) *chanState {
	if i := slices.Index(l.names, channel); i >= 0 {
		return l.states[i]
	}
	return nil
}

func (l lockedChannels) unlock() {
	for _, st := range l.states {
		st.mu.Unlock()
	}
}
