package chanstate

import (
	"sync/atomic"
	"unsafe"

	"github.com/VictoriaMetrics/metrics"
)

// histEntry is one publication kept for recovery: its seq, when it was
// accepted, and its ready WebSocket frames (replayed as they are): the
// plain frame, then the deflated one when the publication was compressed,
// in one buffer; plain is its first plainLen bytes.
type histEntry struct {
	seq      uint64
	nanos    int64
	frames   []byte
	plainLen int
}

const histEntrySize = int64(unsafe.Sizeof(histEntry{}))

// Budget is the memory all history rings may hold together ([history]
// max_bytes) and its accounting; safe for concurrent use.
type Budget struct {
	bytes     atomic.Int64 // ring slots and frames held
	max       int64
	evictions *metrics.Counter // publications evicted before their time, or never kept
}

// NewBudget returns a budget of max bytes that counts in evictions the
// publications it evicts early or cannot keep.
func NewBudget(max int64, evictions *metrics.Counter) *Budget {
	return &Budget{max: max, evictions: evictions}
}

// Bytes returns the memory the rings hold: slots and frames.
func (b *Budget) Bytes() int64 { return b.bytes.Load() }

// History is a channel's ring of its last publications. It is guarded by
// its channel's lock. The ring is allocated by the first publication and
// let go when the sweep finds it expired; entry buffers are reused as the
// ring turns.
type History struct {
	size   int
	ring   []histEntry // nil while empty
	next   int         // slot of the next entry
	count  int         // entries held, at most size
	budget *Budget
}

// NewHistory returns an empty ring of size publications charged to budget.
func NewHistory(size int, budget *Budget) *History {
	return &History{size: size, budget: budget}
}

// Add keeps the frames of publication seq (copied): plain, and deflated
// when it was compressed (else nil). Past the budget the ring
// makes room by evicting its own oldest entries; when it holds nothing
// else and still cannot, the publication is not kept, and a recovery
// across it fails (Holds checks that seqs follow each other).
func (h *History) Add(seq uint64, nanos int64, plain, deflated []byte) {
	b := h.budget
	if h.ring == nil {
		h.ring = make([]histEntry, h.size)
		b.bytes.Add(int64(h.size) * histEntrySize)
	}
	e := &h.ring[h.next]
	if h.count == h.size { // the ring turns: e is the oldest, reused
		h.count--
	}
	if grow := int64(len(plain) + len(deflated) - cap(e.frames)); grow > 0 {
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
	old := cap(e.frames)
	e.seq, e.nanos, e.plainLen = seq, nanos, len(plain)
	e.frames = append(append(e.frames[:0], plain...), deflated...)
	b.bytes.Add(int64(cap(e.frames) - old))
	h.next = (h.next + 1) % h.size
	h.count++
}

// evictOldest frees the oldest entry.
func (h *History) evictOldest() {
	h.free(&h.ring[h.first(uint64(h.count))])
	h.count--
}

// free lets go of e's frame.
func (h *History) free(e *histEntry) {
	h.budget.bytes.Add(-int64(cap(e.frames)))
	e.frames = nil
}

// Expire frees the entries accepted before notBefore, and the ring itself
// once it is empty.
func (h *History) Expire(notBefore int64) {
	for h.count > 0 && h.ring[h.first(uint64(h.count))].nanos < notBefore {
		h.evictOldest()
	}
	if h.count == 0 && h.ring != nil {
		h.Release()
	}
}

// Empty reports whether the ring holds nothing.
func (h *History) Empty() bool { return h.count == 0 }

// Holds reports whether every publication after seq is still held: none
// evicted, none older than notBefore. latest is the channel's last seq.
func (h *History) Holds(seq, latest uint64, notBefore int64) bool {
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

// Each calls fn, oldest first, with the frames of every publication after
// seq (deflated is nil for one that was not compressed); Holds must have
// reported them all held.
func (h *History) Each(seq, latest uint64, fn func(plain, deflated []byte)) {
	missed := latest - seq
	first := h.first(missed)
	for i := 0; i < int(missed); i++ {
		e := &h.ring[(first+i)%h.size]
		var deflated []byte
		if len(e.frames) > e.plainLen {
			deflated = e.frames[e.plainLen:]
		}
		fn(e.frames[:e.plainLen], deflated)
	}
}

// first is the slot of the oldest of the last n entries.
func (h *History) first(n uint64) int {
	return (h.next - int(n) + h.size) % h.size
}

// Release returns the ring's memory to the accounting; the ring is empty
// afterwards.
func (h *History) Release() {
	if h.ring == nil {
		return
	}
	n := int64(h.size) * histEntrySize
	for i := range h.ring {
		n += int64(cap(h.ring[i].frames))
	}
	h.budget.bytes.Add(-n)
	h.ring, h.next, h.count = nil, 0, 0
}
