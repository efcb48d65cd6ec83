package hub

import (
	"context"
	"errors"
	"time"

	"wsfan/chanstate"
	"wsfan/cluster"
	"wsfan/codec"
	"wsfan/conn"
	"wsfan/index"
	"wsfan/lib/bytespool"
)

// Stream is the cluster's JetStream stream as the hub sees it
// (cluster.Stream): it numbers every channel, its epoch names every history
// channel's numbering, and it holds what this node's memory may lack.
type Stream interface {
	Epoch() string
	Position(ctx context.Context, channel string) (uint64, error)
	Since(ctx context.Context, channel string, afterSeq uint64, limit int) ([]cluster.Msg, bool, error)
}

// SetStream puts the hub on a JetStream stream: publications come numbered
// (DeliverSeq), and a subscribe reads from the stream what memory cannot
// answer, for at most timeout per command. Call it before the first
// publication or subscription.
func (h *Hub) SetStream(s Stream, timeout time.Duration) {
	h.stream, h.streamTimeout = s, timeout
	h.startReaders()
}

// DeliverSeq is the stream's delivery of one publication, numbered seq in
// its channel, stored at ts (Unix milliseconds). Called in stream order.
func (h *Hub) DeliverSeq(channel string, seq uint64, ts int64, data []byte) {
	h.pubMu.RLock()
	defer h.pubMu.RUnlock()
	if h.closed {
		return
	}
	h.deliver(channel, data, seq, ts, time.Now().UnixNano())
}

// syncEpoch starts st over when the stream was re-created since st last
// saw it: a new epoch, nothing delivered, nothing held. The caller holds
// the channel's lock.
func (h *Hub) syncEpoch(st *chanstate.State) {
	if !st.History() {
		return
	}
	if e := h.stream.Epoch(); st.Epoch != e {
		st.Epoch, st.Seq, st.Known = e, 0, false
		if st.Ring != nil {
			st.Ring.Release()
			st.Ring = nil
		}
	}
}

// streamRead is what a subscribe read from the stream for one channel
// before taking its locks: the channel's position at the point this node's
// delivery has reached (when the node delivered nothing of it since it
// started), and the publications after the client's since (when memory
// does not hold them).
type streamRead struct {
	pos     uint64
	posOK   bool
	msgs    []cluster.Msg
	sinceOK bool
}

// A subscribe's reads from the stream run on streamReaders goroutines, off
// the executors (nbio has few); at most readQueue subscribes wait for one,
// past which a subscribe goes on with what memory holds.
const (
	streamReaders = 16
	readQueue     = 4096
)

// planned is a read a subscribe needs: the channel's position, the
// publications after pos, or both.
type planned struct {
	name               string
	pos                codec.Since
	needPos, needSince bool
}

// readJob is a subscribe's reads and what to do with them.
type readJob struct {
	plan []planned
	done func(map[string]*streamRead)
}

// startReaders runs the stream readers until Close.
func (h *Hub) startReaders() {
	h.reads = make(chan readJob, readQueue)
	h.stopReads = make(chan struct{})
	for range streamReaders {
		go func() {
			for {
				select {
				case j := <-h.reads:
					j.done(h.readStream(j.plan))
				case <-h.stopReads:
					return
				}
			}
		}()
	}
}

// readLater hands plan to a stream reader, which calls done with what it
// read; with the queue full, or the hub closed, done gets nothing at once.
func (h *Hub) readLater(plan []planned, done func(map[string]*streamRead)) {
	select {
	case <-h.stopReads:
		done(nil)
		return
	default:
	}
	select {
	case h.reads <- readJob{plan, done}:
	default:
		h.m.countRead(errQueueFull)
		done(nil)
	}
}

// errQueueFull: the stream readers are that far behind.
var errQueueFull = errors.New("hub: stream read queue full")

// streamPlan returns the reads from the stream a subscribe needs for its
// history channels: what this node's memory cannot answer.
func (h *Hub) streamPlan(channels []string, fresh map[string]bool, since map[string]codec.Since) []planned {
	var plan []planned
	for _, name := range channels {
		if index.IsPattern(name) || !h.HistoryEnabled(name) {
			continue
		}
		pos, asked := since[name]
		asked = asked && fresh[name] && pos.Epoch == h.stream.Epoch()
		if needPos, needSince := h.memoryLacks(name, pos, asked); needPos || needSince {
			plan = append(plan, planned{name, pos, needPos, asked && needSince})
		}
	}
	return plan
}

// readStream reads plan from the stream, bounded by streamTimeout for the
// whole of it. Memory is asked again first: an earlier subscribe's read
// may have filled it (warmRing). A read that fails leaves its channel as
// memory has it (position 0, or not recovered).
func (h *Hub) readStream(plan []planned) map[string]*streamRead {
	ctx, cancel := context.WithTimeout(context.Background(), h.streamTimeout)
	defer cancel()
	reads := make(map[string]*streamRead, len(plan))
	for _, p := range plan {
		needPos, needSince := h.memoryLacks(p.name, p.pos, p.needSince)
		r := &streamRead{}
		var err error
		if needPos && p.needPos {
			r.pos, err = h.stream.Position(ctx, p.name)
			r.posOK = err == nil
			h.m.countRead(err)
		}
		if needSince && p.needSince {
			r.msgs, r.sinceOK, err = h.stream.Since(ctx, p.name, p.pos.Seq, 0)
			r.sinceOK = r.sinceOK && err == nil
			h.m.countRead(err)
		}
		reads[p.name] = r
	}
	return reads
}

// memoryLacks reports, under the channel's lock, whether this node knows
// nothing of the channel's position (it delivered nothing of it since it
// started) and, for a client asking to recover from pos, whether memory
// lacks what it missed.
func (h *Hub) memoryLacks(name string, pos codec.Since, asked bool) (needPos, needSince bool) {
	ch := h.idx.Acquire(name)
	defer ch.Unlock()
	st := h.prepare(ch)
	h.syncEpoch(st)
	needPos = st.Seq == 0 && !st.Known
	if asked {
		notBefore := time.Now().Add(-h.history.TTL).UnixNano()
		needSince = st.Seq == 0 && !st.Known || pos.Seq < st.Seq && (st.Ring == nil || !st.Ring.Holds(pos.Seq, st.Seq, notBefore))
	}
	return needPos, needSince
}

// adoptPosition takes the position read from the stream for a channel this
// node still delivered nothing of. The caller holds its lock.
func (h *Hub) adoptPosition(st *chanstate.State, r *streamRead) {
	if r != nil && r.posOK && st.Seq == 0 {
		st.Seq, st.Known = r.pos, true
	}
}

// joinStream completes a replay memory could not serve with what the
// stream held: its publications up to r.upTo, followed by those of memory
// after the last of them. It reports whether that is every publication r
// missed. The caller holds the channel's lock.
func (h *Hub) joinStream(r *replay, read *streamRead, notBefore int64) bool {
	if read == nil || !read.sinceOK || r.after > r.upTo {
		return false
	}
	msgs := read.msgs
	for len(msgs) > 0 && msgs[len(msgs)-1].Seq > r.upTo {
		msgs = msgs[:len(msgs)-1] // delivered live after the ack: this node is behind the stream
	}
	end := r.after
	if len(msgs) > 0 {
		end = msgs[len(msgs)-1].Seq
	}
	if end < r.upTo && (r.st.Ring == nil || !r.st.Ring.Holds(end, r.upTo, notBefore)) {
		return false
	}
	r.stream, r.ringAfter = msgs, end
	if end == r.upTo {
		h.warmRing(r.channel, r.st, msgs)
	}
	return true
}

// warmRing keeps, in a history ring that holds nothing, the publications
// just read from the stream up to the channel's position (the consecutive
// run that ends there): the next client that missed them recovers from
// memory. After a restart every client of a channel asks for about the same
// range, and one read serves them all. The caller holds the channel's lock.
func (h *Hub) warmRing(channel string, st *chanstate.State, msgs []cluster.Msg) {
	if len(msgs) == 0 || st.Ring != nil && !st.Ring.Empty() {
		return
	}
	i := len(msgs) - 1
	for i > 0 && msgs[i-1].Seq+1 == msgs[i].Seq {
		i--
	}
	if st.Ring == nil {
		st.Ring = chanstate.NewHistory(h.history.Size, h.budget)
	}
	buf := bytespool.Get()
	defer bytespool.Put(buf)
	for _, m := range msgs[max(i, len(msgs)-h.history.Size):] {
		*buf = codec.AppendMessageFrame((*buf)[:0], channel, m.Seq, m.TS, m.Data)
		st.Ring.Add(m.Seq, m.TS*int64(time.Millisecond), *buf, nil)
	}
}

// replayStreamLocked queues the publications of a replay that came from
// the stream: each, or on a conflated channel the latest when memory holds
// none after it. It reports whether it queued the conflated channel's
// latest. c's lock is held.
func replayStreamLocked(c *conn.Conn, r replay) (latestSent bool) {
	if len(r.stream) == 0 {
		return false
	}
	buf := bytespool.Get()
	defer bytespool.Put(buf)
	if r.st.Conf != nil {
		if r.ringAfter < r.upTo {
			return false // memory holds the latest
		}
		m := r.stream[len(r.stream)-1]
		*buf = codec.AppendConflatedFrame((*buf)[:0], r.channel, m.Seq, r.upTo-r.after-1, m.TS, m.Data)
		c.EnqueueLocked(*buf)
		return true
	}
	for _, m := range r.stream {
		*buf = codec.AppendMessageFrame((*buf)[:0], r.channel, m.Seq, m.TS, m.Data)
		c.EnqueueLocked(*buf)
	}
	return false
}
