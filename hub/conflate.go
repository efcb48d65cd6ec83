package hub

import (
	"time"

	"wsfan/chanstate"
	"wsfan/codec"
	"wsfan/conn"
	"wsfan/index"
	"wsfan/lib/bytespool"
)

// conflate handles a publication of a conflated channel, its seq already
// counted: after a quiet interval it goes out at once (the leading edge);
// within the interval after a delivery it is held, in place of the one
// held before, and goes out when the interval ends (the trailing edge). The
// caller holds ch's lock. History keeps every publication, as on any
// channel.
func (h *Hub) conflate(ch *conn.Entry, patterns []*conn.Entry, st *chanstate.State, ts int64, data []byte, now int64) {
	cf := st.Conf
	if st.History() {
		buf := bytespool.Get()
		*buf = codec.AppendMessageFrame((*buf)[:0], ch.Name(), st.Seq, ts, data)
		if st.Ring == nil {
			st.Ring = chanstate.NewHistory(h.history.Size, h.budget)
		}
		st.Ring.Add(st.Seq, now, *buf, nil)
		bytespool.Put(buf)
	}
	if cf.Held || now-cf.LastDelivery < int64(h.interval) {
		if cf.Hold(st.Seq, ts, now, data) {
			h.m.conflated.Inc()
		}
		h.armTrailing(ch, cf, now)
		return
	}
	cf.Delivered(now)
	h.deliverLatest(ch, patterns, &conn.Latest{Channel: ch.Name(), Seq: st.Seq, TS: ts, Data: data, Accepted: now})
}

// deliverLatest fans a conflated channel's message out.
func (h *Hub) deliverLatest(ch *conn.Entry, patterns []*conn.Entry, m *conn.Latest) {
	if ch.Len() == 0 && len(patterns) == 0 {
		return
	}
	var f frames
	f.encode(h, m.Channel, m.Seq, m.Conflated, m.TS, m.Data)
	defer f.release()
	h.fanOut(ch, patterns, &f, m.Accepted, m)
}

// armTrailing makes sure the held publication goes out when the interval
// since the last delivery ends. The caller holds ch's lock.
func (h *Hub) armTrailing(ch *conn.Entry, cf *chanstate.Conflation, now int64) {
	if cf.Armed {
		return
	}
	cf.Armed = true
	d := time.Duration(cf.LastDelivery + int64(h.interval) - now)
	if cf.Timer == nil {
		cf.Timer = time.AfterFunc(d, func() { h.trailing(ch) })
		return
	}
	cf.Timer.Reset(d)
}

// trailing is a conflated channel's timer: it delivers the publication
// held, standing for the ones it replaced.
func (h *Hub) trailing(ch *conn.Entry) {
	h.pubMu.RLock()
	defer h.pubMu.RUnlock()
	defer h.recoverPublish(ch.Name())
	patterns := h.idx.Lookup(ch.Name()).Patterns()
	ch.Lock()
	defer ch.Unlock()
	if ch.Dead() {
		return
	}
	cf := ch.State.Conf
	cf.Armed = false
	if !cf.Held {
		return
	}
	now := time.Now().UnixNano()
	m := conn.Latest{Channel: ch.Name(), Seq: cf.Seq, Conflated: cf.Replaced, TS: cf.TS, Data: cf.Data, Accepted: cf.Accepted}
	h.deliverLatest(ch, patterns, &m)
	cf.Delivered(now)
}

// Conflated reports whether channel is conflated.
func (h *Hub) Conflated(channel string) bool {
	return matchesAny(h.conflation, channel)
}

// MayConflate reports whether a subscription to sub, a channel or a
// pattern, can receive messages of a conflated channel.
func (h *Hub) MayConflate(sub string) bool {
	for _, p := range h.conflation {
		if index.Overlap(p, sub) {
			return true
		}
	}
	return false
}
