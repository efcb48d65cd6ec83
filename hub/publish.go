package hub

import (
	"fmt"
	"runtime/debug"
	"time"

	"wsfan/chanstate"
	"wsfan/codec"
	"wsfan/conn"
)

// Publish delivers validated publications, in order, to every subscriber
// of their channels. It never blocks on a socket. It returns false,
// publishing nothing, once the hub is closed.
func (h *Hub) Publish(pubs []codec.Publication) bool {
	h.pubMu.RLock()
	defer h.pubMu.RUnlock()
	if h.closed {
		return false
	}
	now := time.Now()
	ts := now.UnixMilli()
	for i := range pubs {
		h.deliver(pubs[i].Channel, pubs[i].Data, 0, ts, now.UnixNano())
	}
	h.m.fanoutSeconds.UpdateDuration(now)
	return true
}

// Deliver is the cluster bus's delivery of one publication that arrived
// from another node (or this one, through the bus). Its ts is the time this
// node accepted it.
func (h *Hub) Deliver(channel string, data []byte) {
	h.pubMu.RLock()
	defer h.pubMu.RUnlock()
	if h.closed {
		return
	}
	now := time.Now()
	h.deliver(channel, data, 0, now.UnixMilli(), now.UnixNano())
}

// deliver encodes one publication once, as one WebSocket frame (and, for
// subscribers that negotiated permessage-deflate, compresses it once into
// a second frame), and appends those bytes to the outbound buffer of each
// subscriber of the channel and of every pattern that matches it, under the
// channel's lock (so seq order is the same for every subscriber) and the
// patterns' read locks (so that an unsubscribe that returned sees no later
// delivery). seq is the publication's seq when the stream numbered it, 0
// when this node numbers it. A panic on the way is logged and counted; the
// locks are released and the hub goes on.
func (h *Hub) deliver(channel string, data []byte, seq uint64, ts, nowNano int64) {
	defer h.recoverPublish(channel)
	h.m.publications.Inc()
	m := h.idx.Lookup(channel)
	ch, patterns := m.Channel, m.Patterns()
	switch {
	case ch != nil:
		ch = h.idx.Relock(ch)
	case len(patterns) > 0 || h.HistoryEnabled(channel):
		ch = h.idx.Acquire(channel)
	default:
		return // nobody holds the channel: no seq to keep
	}
	defer ch.Unlock()
	if testHookDeliver != nil {
		testHookDeliver(channel)
	}
	st := h.prepare(ch)
	switch {
	case seq != 0:
		h.syncEpoch(st)
		st.Seq = seq
	case h.bus != nil:
		// A lost bus connection may have lost publications: skip a seq
		// so that subscribers see the gap.
		if g := h.bus.Gaps(); g != st.Gaps {
			if st.Seq > 0 {
				st.Seq++
			}
			st.Gaps = g
		}
		st.Seq++
	default:
		st.Seq++
	}
	st.LastPub = nowNano
	if st.Conf != nil {
		h.conflate(ch, patterns, st, ts, data, nowNano)
		return
	}
	if ch.Len() == 0 && len(patterns) == 0 && !st.History() {
		return
	}
	var f frames
	f.encode(h, channel, st.Seq, 0, ts, data)
	defer f.release()
	h.fanOut(ch, patterns, &f, nowNano, nil)
	if st.History() {
		// The deflated frame, if a subscriber needed it, is kept too: a
		// replay to a deflate client sends it as it is.
		if st.Ring == nil {
			st.Ring = chanstate.NewHistory(h.history.Size, h.budget)
		}
		st.Ring.Add(st.Seq, nowNano, f.plain, f.deflated)
	}
}

// fanOut appends f to the outbound buffer of each member of ch and, once
// per connection, of the matching patterns; latest, for a conflated
// channel's message, lets a newer message replace an unsent older one.
func (h *Hub) fanOut(ch *conn.Entry, patterns []*conn.Entry, f *frames, accepted int64, latest *conn.Latest) {
	var n deliveries
	for _, c := range ch.Members() {
		n.add(enqueue(c, f, accepted, latest))
	}
	if len(patterns) > 0 {
		deliverPatterns(ch, patterns, f, accepted, latest, &n)
	}
	h.m.count(&n)
}

// enqueue appends f's frame for c; it reports whether c took it and
// whether it was the deflated one.
func enqueue(c *conn.Conn, f *frames, accepted int64, latest *conn.Latest) (queued, deflated bool) {
	frame, deflated := f.forConn(c)
	if latest != nil {
		return c.EnqueueLatest(frame, latest), deflated
	}
	return c.EnqueueMessage(frame, accepted), deflated
}

// deliverPatterns enqueues f for the members of the matching patterns,
// once per connection: a member that also holds the channel, or an earlier
// pattern in the list, got it already. It holds every pattern's read lock
// for the whole walk, taken in the list's (lock) order, so that those
// memberships cannot change under the check.
func deliverPatterns(ch *conn.Entry, patterns []*conn.Entry, f *frames, accepted int64, latest *conn.Latest, n *deliveries) {
	for _, p := range patterns {
		p.RLock()
	}
	defer func() {
		for _, p := range patterns {
			p.RUnlock()
		}
	}()
	for i, p := range patterns {
		// The common case needs no check: nothing else was walked yet.
		check := ch.Len() > 0 || i > 0
		for _, c := range p.Members() {
			if check && holdsAny(c, ch, patterns[:i]) {
				continue
			}
			n.add(enqueue(c, f, accepted, latest))
		}
	}
}

// holdsAny reports whether c holds ch or one of patterns: whether a walk
// of those already reached it. The caller holds their locks, so that the
// answer cannot change.
func holdsAny(c *conn.Conn, ch *conn.Entry, patterns []*conn.Entry) bool {
	c.Lock()
	defer c.Unlock()
	subs := c.Subs()
	if s := subs.Get(ch.Name()); s != nil && s.Channel() == ch {
		return true
	}
	for _, p := range patterns {
		if s := subs.Get(p.Name()); s != nil && s.Channel() == p {
			return true
		}
	}
	return false
}

// testHookDeliver, when set by a test, runs inside deliver with the
// channel's lock held.
var testHookDeliver func(channel string)

// recoverPublish is deliver's deferred guard: a panic while delivering one
// publication is logged with its stack and counted, and the publication
// is dropped; the deferred unlocks ran before it.
func (h *Hub) recoverPublish(channel string) {
	if r := recover(); r != nil {
		h.m.publishPanics.Inc()
		h.log.Error("panic while delivering a publication; it is dropped", "channel", channel,
			"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	}
}
