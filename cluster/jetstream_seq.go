package cluster

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// SeqHeader is the header in which a publication made through
// Stream.Publish carries its channel seq. A message without it (put into the
// stream by another publisher) is numbered by the rule below.
const SeqHeader = "Wsfan-Seq"

// # The numbering rule
//
// JetStream numbers the messages of a stream, not of a subject, so the
// channel seq is wsfan's own. Every message of a channel gets
// seq(M) = seq(P) + 1, P being the channel's previous message in the
// stream, except where a new numbering starts (an anchor), and:
//
//   - A message published by Stream.Publish carries its seq (SeqHeader). The
//     publisher computed it as seq(P) + 1 and published it with
//     Nats-Expected-Last-Subject-Sequence = the stream sequence of P, so
//     JetStream stored it only if P was indeed the channel's last message.
//     The header is authoritative: every node delivers what it says.
//   - A message without the header (a plain publisher's) is numbered by each
//     node: seq(P) + 1, P known from the node's own delivery of P, or from
//     the messages the stream still holds on the channel (its window).
//   - Anchors. A channel whose stream holds nothing (never published, or
//     idle longer than max_age) starts a new numbering at a stream sequence
//     number: Publish uses the stream's last sequence + 1 (or the node's
//     own last seq + 1 when it saw the channel's last message and is not
//     catching up), and a plain message whose predecessor is max_age or more
//     older than itself (by stream timestamps), or that has none, takes its
//     own stream sequence.
//
// Invariant: seq(M) <= the stream sequence of M, by induction over the
// cases. So an anchor is above every seq the channel had before: numbering
// never goes back and a seq is never reused within an epoch; clients see
// the jump as a gap.
//
// The edge: a plain message whose predecessors are no longer all in the
// stream, and no message of Publish after them, is numbered from the oldest
// one still held (an uncertain anchor) by a node that did not deliver them
// (a node started after them). Such a node can disagree with the nodes
// that delivered them, until the channel's next publication through
// Publish, whose header every node follows. Since does not vouch for an
// uncertain numbering it did not deliver itself (see numberWindow).

// stored is a channel's message as the stream holds it.
type stored struct {
	sseq uint64 // stream sequence
	ts   int64  // stream timestamp, Unix nanoseconds
	hseq uint64 // SeqHeader; 0: none (a plain publisher's message)
	data []byte
}

// parseSeqHeader returns the seq in SeqHeader's value v, or 0 when v is not
// a positive decimal number (such a message counts as a plain one).
func parseSeqHeader(v string) uint64 {
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// idleAnchor reports whether a plain message at ts starts a new numbering
// because its channel's previous message, at prevTs, is maxAge or more older.
// With maxAge 0 (a stream without max age) it never does.
func idleAnchor(ts, prevTs int64, maxAge time.Duration) bool {
	return maxAge > 0 && ts-prevTs >= int64(maxAge)
}

// numberWindow numbers w, the messages the stream holds on one channel in
// stream order, by the rule. hint, when its sseq is that of a message of w,
// is the seq this node gave that message.
//
// Forward, a header gives its seq, an idle anchor its stream sequence and
// any other message its predecessor's seq + 1. A leading run that this does
// not reach (plain messages before the first header or hint) is derived
// backwards from the first numbered message: the header's publisher, or
// this node, numbered it as its predecessor + 1. What remains (a window of
// plain messages only, none delivered by this node, or a run cut off by an
// idle anchor) is numbered from an anchor at w[0]'s stream sequence, and
// is uncertain: seqs[i] for i < certain may differ from other nodes'.
func numberWindow(w []stored, hint known, maxAge time.Duration) (seqs []uint64, certain int) {
	seqs = make([]uint64, len(w))
	first := -1 // the first numbered message
	for i := range w {
		switch {
		case w[i].hseq != 0:
			seqs[i] = w[i].hseq
		case i > 0 && seqs[i-1] != 0 && idleAnchor(w[i].ts, w[i-1].ts, maxAge):
			seqs[i] = w[i].sseq
		case i > 0 && seqs[i-1] != 0:
			seqs[i] = seqs[i-1] + 1
		case hint.seq != 0 && w[i].sseq == hint.sseq:
			seqs[i] = hint.seq
		case i > 0 && idleAnchor(w[i].ts, w[i-1].ts, maxAge):
			seqs[i] = w[i].sseq
		default:
			continue
		}
		if first < 0 {
			first = i
		}
	}
	certain = len(w)
	if first >= 0 {
		certain = first
	}
	// Backwards from the first numbered message, while each step is a
	// continuation (not an idle anchor) and stays at or above 1.
	for i := first - 1; first > 0 && i >= 0; i-- {
		if idleAnchor(w[i+1].ts, w[i].ts, maxAge) || seqs[i+1] <= 1 {
			break
		}
		seqs[i] = seqs[i+1] - 1
		certain = i
	}
	if certain > 0 {
		seqs[0] = w[0].sseq
		for i := 1; i < certain; i++ {
			if idleAnchor(w[i].ts, w[i-1].ts, maxAge) {
				seqs[i] = w[i].sseq
			} else {
				seqs[i] = seqs[i-1] + 1
			}
		}
	}
	return seqs, certain
}

// known is a message this node numbered: its stream sequence and seq.
// The zero value is "nothing known".
type known struct{ sseq, seq uint64 }

// seqCacheShards is the number of independently locked parts of seqCache
// (a power of two).
const seqCacheShards = 64

// seqCache keeps, per channel, what this node knows of the channel's last
// message: from its consumer (delivered) and from JetStream's
// acknowledgements of its own publications (acked). It is what makes the
// common case of Publish and of the plain-message rule cost no extra round
// trip. Safe for concurrent use; the shard locks are leaves.
type seqCache struct {
	shards [seqCacheShards]seqShard
	maxAck atomic.Uint64 // the highest stream sequence acknowledged to this node
}

type seqShard struct {
	mu sync.Mutex
	m  map[string]*chanSeq
}

// chanSeq is one channel's entry; its fields are guarded by the shard's
// lock, except pub.
type chanSeq struct {
	delivered known // the last message of the channel the consumer numbered
	deliverTs int64 // its stream timestamp, Unix ns
	acked     known // the last publication of this node JetStream acknowledged
	touched   int64 // Unix ns of the last change (stream time for deliveries)
	// pub serializes this node's publications on the channel (Publish
	// holds it from reading the last seq to the acknowledgement), so that
	// they do not conflict with each other; other nodes' are settled by
	// JetStream's expected-sequence check.
	pub sync.Mutex
}

func newSeqCache() *seqCache {
	c := &seqCache{}
	for i := range c.shards {
		c.shards[i].m = make(map[string]*chanSeq)
	}
	return c
}

func (c *seqCache) shard(channel string) *seqShard {
	return &c.shards[fnv32(channel)&(seqCacheShards-1)]
}

// entry returns channel's entry, created when missing.
func (c *seqCache) entry(channel string) *chanSeq {
	sh := c.shard(channel)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.at(channel)
}

// at returns channel's entry, created when missing; sh.mu is held.
func (sh *seqShard) at(channel string) *chanSeq {
	e := sh.m[channel]
	if e == nil {
		e = &chanSeq{}
		sh.m[channel] = e
	}
	return e
}

// get returns a copy of channel's entry; ok is false when there is none.
func (c *seqCache) get(channel string) (e chanSeq, ok bool) {
	sh := c.shard(channel)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	p := sh.m[channel]
	if p == nil {
		return chanSeq{}, false
	}
	return chanSeq{delivered: p.delivered, deliverTs: p.deliverTs, acked: p.acked}, true
}

// last returns the newest message of channel this node knows of (the
// larger stream sequence of delivered and acked), or the zero known.
func (c *seqCache) last(channel string) known {
	e, _ := c.get(channel)
	return e.newest()
}

// newest is the newer of delivered and acked.
func (e *chanSeq) newest() known {
	if e.acked.sseq > e.delivered.sseq {
		return e.acked
	}
	return e.delivered
}

// setDelivered records the consumer's numbering of a message at stream
// time ts (Unix ns).
func (c *seqCache) setDelivered(channel string, k known, ts int64) {
	sh := c.shard(channel)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.at(channel)
	e.delivered, e.deliverTs, e.touched = k, ts, max(ts, e.touched)
}

// setAcked records an acknowledged publication of this node, unless the
// entry knows a newer message already.
func (c *seqCache) setAcked(channel string, k known) {
	sh := c.shard(channel)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e := sh.at(channel); k.sseq > e.acked.sseq {
		e.acked = k
		e.touched = max(e.touched, time.Now().UnixNano())
	}
	for {
		m := c.maxAck.Load()
		if k.sseq <= m || c.maxAck.CompareAndSwap(m, k.sseq) {
			return
		}
	}
}

// prune removes the entries last changed before cutoff (Unix ns) that no
// Publish holds. The numbering does not change: a plain message more than
// max_age after its predecessor is an anchor whether or not the node
// remembers the predecessor, and Publish asks the stream when it lacks an
// entry. It returns the number of entries left.
func (c *seqCache) prune(cutoff int64) int {
	left := 0
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		for ch, e := range sh.m {
			if e.touched < cutoff && e.pub.TryLock() {
				delete(sh.m, ch)
				e.pub.Unlock()
			}
		}
		left += len(sh.m)
		sh.mu.Unlock()
	}
	return left
}

// clear empties the cache (the stream was recreated: a new epoch).
func (c *seqCache) clear() {
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		sh.m = make(map[string]*chanSeq)
		sh.mu.Unlock()
	}
	c.maxAck.Store(0)
}
