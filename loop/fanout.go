package loop

import (
	"fmt"
	"runtime/debug"
	"time"

	"wsfan/codec"
	"wsfan/lib/bytespool"
)

// publish delivers already-validated publications, in order, to every
// subscriber of their channels. It never blocks on a socket. It returns
// false, publishing nothing, when the server is draining.
func (s *Server) publish(pubs []codec.Publication) bool {
	s.pubMu.RLock()
	defer s.pubMu.RUnlock()
	if s.draining.Load() {
		return false
	}
	now := time.Now()
	ts := now.UnixMilli()
	for i := range pubs {
		s.deliver(pubs[i].Channel, pubs[i].Data, ts, now.UnixNano())
	}
	s.m.fanoutSeconds.UpdateDuration(now)
	return true
}

// deliverRemote is the NATS bridge's Deliver: a publication that arrived
// from the cluster bus. Its ts is the time this node accepted it.
func (s *Server) deliverRemote(channel string, data []byte) {
	s.pubMu.RLock()
	defer s.pubMu.RUnlock()
	if s.draining.Load() {
		return
	}
	now := time.Now()
	s.deliver(channel, data, now.UnixMilli(), now.UnixNano())
}

// deliver encodes one publication once, as one WebSocket frame, and appends
// those bytes to the outbound buffer of each subscriber of the channel and
// of every pattern that matches it, under the channel's lock (so seq order
// is the same for every subscriber) and the patterns' read locks (so that
// an unsubscribe that returned sees no later delivery). A panic on the way
// is logged and counted; the locks are released and the server goes on.
func (s *Server) deliver(channel string, data []byte, ts, nowNano int64) {
	defer s.recoverPublish(channel)
	s.m.publications.Inc()
	m := s.idx.Lookup(channel)
	ch, patterns := m.Channel, m.Patterns()
	switch {
	case ch != nil:
		ch = s.idx.Relock(ch)
	case len(patterns) > 0 || s.historyEnabled(channel):
		ch = s.idx.Acquire(channel)
	default:
		return // nobody holds the channel: no seq to keep
	}
	defer ch.Unlock()
	if testHookDeliver != nil {
		testHookDeliver(channel)
	}
	st := s.prepare(ch)
	if s.bus != nil {
		// A lost NATS connection may have lost publications: skip a seq
		// so that subscribers see the gap.
		if g := s.bus.Gaps(); g != st.gaps {
			if st.seq > 0 {
				st.seq++
			}
			st.gaps = g
		}
	}
	st.seq++
	st.lastPub = nowNano
	if ch.Len() == 0 && len(patterns) == 0 && !st.histOn {
		return
	}
	buf := bytespool.Get()
	defer func() { bytespool.Put(buf) }()
	frame := codec.AppendMessageFrame((*buf)[:0], channel, st.seq, ts, data)
	*buf = frame
	if st.histOn {
		if st.hist == nil {
			st.hist = newHistory(s.cfg.History.Size, &s.hist)
		}
		st.hist.add(st.seq, nowNano, frame)
	}
	delivered := 0
	for _, c := range ch.Members() {
		if c.enqueueMessage(frame, nowNano) {
			delivered++
		}
	}
	if len(patterns) > 0 {
		delivered += deliverPatterns(ch, patterns, frame, nowNano)
	}
	s.m.deliveries.Add(delivered)
}

// deliverPatterns enqueues frame for the members of the matching patterns,
// once per connection: a member that also holds the channel, or an earlier
// pattern in the list, got it already. It holds every pattern's read lock
// for the whole walk, taken in the list's (lock) order, so that those
// memberships cannot change under the check.
func deliverPatterns(ch *channel, patterns []*channel, frame []byte, nowNano int64) int {
	for _, p := range patterns {
		p.RLock()
	}
	defer func() {
		for _, p := range patterns {
			p.RUnlock()
		}
	}()
	delivered := 0
	for i, p := range patterns {
		// The common case needs no check: nothing else was walked yet.
		check := ch.Len() > 0 || i > 0
		for _, c := range p.Members() {
			if check && c.holdsAny(ch, patterns[:i]) {
				continue
			}
			if c.enqueueMessage(frame, nowNano) {
				delivered++
			}
		}
	}
	return delivered
}

// testHookDeliver, when set by a test, runs inside deliver with the
// channel's lock held.
var testHookDeliver func(channel string)

// recoverPublish is deliver's deferred guard: a panic while delivering one
// publication is logged with its stack and counted, and the publication
// is dropped; the deferred unlocks ran before it.
func (s *Server) recoverPublish(channel string) {
	if r := recover(); r != nil {
		s.m.publishPanics.Inc()
		s.log.Error("panic while delivering a publication; it is dropped", "channel", channel,
			"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	}
}
