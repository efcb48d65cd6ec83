package hub

import (
	"slices"
	"strings"
	"time"

	"wsfan/chanstate"
	"wsfan/cluster"
	"wsfan/codec"
	"wsfan/conn"
	"wsfan/index"
	"wsfan/lib/bytespool"
)

// Subscribe subscribes c to channels and queues the ack of command id,
// listing rejected beside them. channels passed the caller's checks (valid,
// allowed, distinct, within the connection's limit); since holds the
// positions the client asks to recover from. It runs on c's executor.
//
// The entries of the channels it subscribes (new ones, and history
// channels it holds, whose positions the ack reports) are locked in lock
// order, and c with them, while the members are added, the ack is queued
// and the missed publications after it: no publication of a new channel can
// reach the client before its ack, and position, replay and live
// publications form one gapless sequence. In JetStream mode, when memory
// lacks a position or missed publications, the reads from the stream run
// on a stream reader while c is held (its later commands wait for the
// ack), and the subscribe ends on c's executor once they are done.
func (h *Hub) Subscribe(c *conn.Conn, id string, channels []string, rejected []codec.Rejection, since map[string]codec.Since) {
	subs := c.Subs() // changes on this executor only
	fresh := make(map[string]bool, len(channels))
	var names []string
	for _, ch := range channels {
		fresh[ch] = subs.Get(ch) == nil
		if fresh[ch] || (!index.IsPattern(ch) && h.HistoryEnabled(ch)) {
			names = append(names, ch)
		}
	}
	if h.stream != nil {
		if plan := h.streamPlan(channels, fresh, since); len(plan) > 0 {
			// Memory lacks something the stream holds: read it on a
			// stream reader, c's later commands waiting, then go on.
			resume := c.Hold()
			h.readLater(plan, func(reads map[string]*streamRead) {
				resume(func() { h.subscribe(c, id, channels, fresh, names, rejected, since, reads) })
			})
			return
		}
	}
	h.subscribe(c, id, channels, fresh, names, rejected, since, nil)
}

// subscribe is Subscribe once what it needed from the stream was read.
func (h *Hub) subscribe(c *conn.Conn, id string, channels []string, fresh map[string]bool, names []string,
	rejected []codec.Rejection, since map[string]codec.Since, reads map[string]*streamRead) {
	locked := h.lockEntries(names)
	added := h.subscribeLocked(c, id, channels, fresh, locked, rejected, since, reads)
	unlockEntries(locked)
	for _, ch := range added {
		h.interest(ch, +1)
	}
}

func (h *Hub) subscribeLocked(c *conn.Conn, id string, channels []string, fresh map[string]bool,
	locked map[string]*conn.Entry, rejected []codec.Rejection, since map[string]codec.Since,
	reads map[string]*streamRead) (added []string) {
	c.Lock()
	defer c.Unlock()
	if c.GoneLocked() {
		return nil
	}
	subs := c.Subs()
	for _, ch := range locked {
		if fresh[ch.Name()] {
			subs.Add(ch.Add(c))
			added = append(added, ch.Name())
		}
	}
	var (
		positions []codec.Position
		replays   []replay
		recovered = true
	)
	for _, name := range channels {
		ch := locked[name]
		var st *chanstate.State
		if ch != nil && !ch.IsPattern() {
			if st = h.prepare(ch); !st.History() {
				st = nil
			} else if h.stream != nil {
				h.syncEpoch(st)
				h.adoptPosition(st, reads[name])
			}
		}
		if st != nil {
			positions = append(positions, codec.Position{Channel: name, Epoch: st.Epoch, Seq: st.Position()})
		}
		pos, asked := since[name]
		switch {
		case !asked || !fresh[name]:
			// Nothing to recover: no position given, or the connection
			// already receives the channel live.
		case st == nil || !h.sameNumbering(pos, st):
			recovered = false
		default:
			replays = append(replays, replay{channel: name, st: st, after: pos.Seq})
		}
	}
	// Every position must still be in history, else nothing is replayed
	// for it and the client refetches.
	notBefore := time.Now().Add(-h.history.TTL).UnixNano()
	for i := range replays {
		r := &replays[i]
		r.upTo = r.st.Position()
		r.ringAfter = r.after
		r.ok = r.after == r.upTo || (r.after < r.upTo && r.st.Ring != nil && r.st.Ring.Holds(r.after, r.upTo, notBefore))
		if !r.ok && h.stream != nil {
			r.ok = h.joinStream(r, reads[r.channel], notBefore)
		}
		recovered = recovered && r.ok
	}
	var rec *bool
	if positions != nil || len(since) > 0 {
		rec = &recovered
		if len(since) > 0 {
			if recovered {
				h.m.recovered.Inc()
			} else {
				h.m.notRecovered.Inc()
			}
		}
	}
	count := subs.Len()
	c.ReplyLocked(func(dst []byte) []byte {
		return codec.AppendSubscriptionAck(dst, id, channels, rejected, count, positions, rec)
	})
	for _, r := range replays {
		if r.ok && r.after != r.upTo {
			replayLocked(c, r)
		}
	}
	return added
}

// replayLocked queues the publications r missed: all of them (those read
// from the stream first, then memory's), or on a conflated channel the
// latest, standing for the others. c's lock is held.
func replayLocked(c *conn.Conn, r replay) {
	if replayStreamLocked(c, r) || r.ringAfter == r.upTo {
		return
	}
	if r.st.Conf != nil {
		r.st.Ring.Each(r.upTo-1, r.upTo, func(plain, _ []byte) {
			if r.upTo-r.after == 1 {
				c.EnqueueLocked(plain)
				return
			}
			buf := bytespool.Get()
			*buf = codec.AppendReconflated((*buf)[:0], plain, r.upTo-r.after-1)
			c.EnqueueLocked(*buf)
			bytespool.Put(buf)
		})
		return
	}
	r.st.Ring.Each(r.ringAfter, r.upTo, func(plain, deflated []byte) {
		if deflated != nil && c.Deflate() {
			c.EnqueueLocked(deflated)
		} else {
			c.EnqueueLocked(plain)
		}
	})
}

// replay is a channel whose missed publications, after to upTo, a
// subscribe replays.
type replay struct {
	channel string
	st      *chanstate.State
	after   uint64
	upTo    uint64
	ok      bool
	// stream are the missed publications read from the stream (JetStream
	// mode, when memory lacked them); memory's follow from ringAfter.
	stream    []cluster.Msg
	ringAfter uint64
}

// Unsubscribe removes channels from c's subscriptions and queues the ack of
// command id. Each distinct requested channel is listed in the ack: after
// it, the connection holds none of them, whether or not it held them
// before. The entries it held are locked (in lock order) across the removal
// and the ack, so no publication of them can follow the ack. It runs on c's
// executor.
func (h *Hub) Unsubscribe(c *conn.Conn, id string, channels []string) {
	subs := c.Subs()
	unsubscribed := make([]string, 0, len(channels))
	var names []string
	seen := make(map[string]struct{}, len(channels))
	for _, ch := range channels {
		if _, dup := seen[ch]; dup {
			continue
		}
		seen[ch] = struct{}{}
		unsubscribed = append(unsubscribed, ch)
		if subs.Get(ch) != nil {
			names = append(names, ch)
		}
	}
	locked := h.lockEntries(names)
	c.Lock()
	var gone []*conn.Sub
	for _, name := range names {
		if s := subs.Remove(name); s != nil {
			gone = append(gone, s)
		}
	}
	count := subs.Len()
	c.ReplyLocked(func(dst []byte) []byte {
		return codec.AppendUnsubscriptionAck(dst, id, unsubscribed, count)
	})
	c.Unlock()
	now := time.Now().UnixNano()
	for _, s := range gone {
		h.leaveLocked(s, now)
	}
	unlockEntries(locked)
	for _, s := range gone {
		h.interest(s.Channel().Name(), -1)
	}
}

// Leave removes the subscriptions of a connection that is gone (what
// conn.Handler's Closed hands over), one entry at a time.
func (h *Hub) Leave(subs conn.Subs) {
	now := time.Now().UnixNano()
	subs.All(func(s *conn.Sub) {
		ch := s.Channel()
		ch.Lock()
		h.leaveLocked(s, now)
		ch.Unlock()
		h.interest(ch.Name(), -1)
	})
}

// lockEntries acquires the entries of names (valid, distinct), creating
// the missing ones, in lock order: channels before patterns, each by name
// (index's lock order). unlockEntries releases them.
func (h *Hub) lockEntries(names []string) map[string]*conn.Entry {
	if len(names) == 0 {
		return nil
	}
	order := slices.Clone(names)
	slices.SortFunc(order, func(a, b string) int {
		if pa, pb := index.IsPattern(a), index.IsPattern(b); pa != pb {
			if pa {
				return 1
			}
			return -1
		}
		return strings.Compare(a, b)
	})
	locked := make(map[string]*conn.Entry, len(order))
	for _, name := range order {
		locked[name] = h.idx.Acquire(name)
	}
	return locked
}

func unlockEntries(locked map[string]*conn.Entry) {
	for _, ch := range locked {
		ch.Unlock()
	}
}
