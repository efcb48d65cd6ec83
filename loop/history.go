package loop

import (
	"crypto/rand"
	"encoding/base64"
	"sync/atomic"
	"unsafe"

	"github.com/VictoriaMetrics/metrics"

	"wsfan/index"
)

// histEntry is one publication kept for recovery: its seq, when it was
// accepted, and its ready WebSocket frame (replayed as is).
type histEntry struct {
	seq   uint64
	nanos int64
	frame []byte
}

const histEntrySize = int64(unsafe.Sizeof(histEntry{}))

// histBudget is the memory all history rings may hold together
// ([history] max_bytes) and its accounting; safe for concurrent use.
type histBudget struct {
	bytes     atomic.Int64 // ring slots and frames held
	max       int64
	evictions *metrics.Counter // publications evicted before their time, or never kept
}

// history is a channel's ring of its last publications. It is guarded by
// its channel's lock. The ring is allocated by the first publication and
// let go when the sweep finds it expired; entry buffers are reused as the
// ring turns.
type history struct {
	size   int
	ring   []histEntry // nil while empty
	next   int         // slot of the next entry
	count  int         // entries held, at most size
	budget *histBudget
}

func newHistory(size int, budget *histBudget) *history {
	return &history{size: size, budget: budget}
}

// add keeps frame (copied) as publication seq. Past the budget the ring
// makes room by evicting its own oldest entries; when it holds nothing
// else and still cannot, the publication is not kept, and a recovery
// across it fails (holds checks that seqs follow each other).
func (h *history) add(seq uint64, nanos int64, frame []byte) {
	b := h.budget
	if h.ring == nil {
		h.ring = make([]histEntry, h.size)
		b.bytes.Add(int64(h.size) * histEntrySize)
	}
	e := &h.ring[h.next]
	if h.count == h.size { // the ring turns: e is the oldest, reused
		h.count--
	}
	if grow := int64(len(frame) - cap(e.frame)); grow > 0 {
		for b.bytes.Load()+grow > b.max && h.count > 0 {
			h.evictOldest()
			b.evictions.Inc()
		}
		if b.bytes.Load()+grow > b.max {
			// Not kept: a recovery across seq finds the seq missing.
			b.evictions.Inc()
			h.free(e)
			return
		}
	}
	old := cap(e.frame)
	e.seq, e.nanos = seq, nanos
	e.frame = append(e.frame[:0], frame...)
	b.bytes.Add(int64(cap(e.frame) - old))
	h.next = (h.next + 1) % h.size
	h.count++
}

// evictOldest frees the oldest entry.
func (h *history) evictOldest() {
	h.free(&h.ring[h.first(uint64(h.count))])
	h.count--
}

// free lets go of e's frame.
func (h *history) free(e *histEntry) {
	h.budget.bytes.Add(-int64(cap(e.frame)))
	e.frame = nil
}

// expire frees the entries accepted before notBefore, and the ring itself
// once it is empty.
func (h *history) expire(notBefore int64) {
	for h.count > 0 && h.ring[h.first(uint64(h.count))].nanos < notBefore {
		h.evictOldest()
	}
	if h.count == 0 && h.ring != nil {
		h.release()
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
		fn(h.ring[(first+i)%h.size].frame)
	}
}

// first is the slot of the oldest of the last n entries.
func (h *history) first(n uint64) int {
	return (h.next - int(n) + h.size) % h.size
}

// release returns the ring's memory to the accounting; the ring is empty
// afterwards.
func (h *history) release() {
	if h.ring == nil {
		return
	}
	n := int64(h.size) * histEntrySize
	for i := range h.ring {
		n += int64(cap(h.ring[i].frame))
	}
	h.budget.bytes.Add(-n)
	h.ring, h.next, h.count = nil, 0, 0
}

// newEpoch returns a random node epoch: it changes at every start, so a
// position from another run or another node is never taken for this one's.
func newEpoch() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// historyEnabled reports whether channel keeps history.
func (s *Server) historyEnabled(channel string) bool {
	for _, p := range s.cfg.History.Channels {
		if index.Matches(p, channel) {
			return true
		}
	}
	return false
}
