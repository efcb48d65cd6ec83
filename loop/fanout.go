package loop

import (
	"sync"
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
// those bytes to each subscriber's outbound buffer under the channel's
// lock: seq order is the same for every subscriber.
func (s *Server) deliver(channel string, data []byte, ts, nowNano int64) {
	st := s.chans.lock(channel)
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
	m := s.idx.Lookup(channel)
	if n := m.Len(); n > 0 || st.hist != nil {
		buf := bytespool.Get()
		frame := codec.AppendMessageFrame((*buf)[:0], channel, st.seq, ts, data)
		if st.hist != nil {
			st.hist.add(st.seq, nowNano, frame)
		}
		delivered := 0
		if len(m.Patterns()) == 0 {
			for _, c := range m.Exact {
				if c.enqueueMessage(frame, nowNano) {
					delivered++
				}
			}
		} else {
			delivered = deliverDeduped(m.Exact, m.Patterns(), frame, nowNano)
		}
		*buf = frame
		bytespool.Put(buf)
		s.m.deliveries.Add(delivered)
	}
	st.mu.Unlock()
	s.m.publications.Inc()
}

// seenPool holds the sets deliverDeduped uses to send a publication once to
// a connection that several of its subscriptions match.
var seenPool = sync.Pool{New: func() any { return make(map[*client]struct{}) }}

// deliverDeduped enqueues frame once for every distinct client in exact and
// the pattern snapshots, and returns how many got it.
func deliverDeduped(exact []*client, patterns [][]*client, frame []byte, nowNano int64) int {
	seen := seenPool.Get().(map[*client]struct{})
	delivered := 0
	send := func(subs []*client) {
		for _, c := range subs {
			if _, dup := seen[c]; dup {
				continue
			}
			seen[c] = struct{}{}
			if c.enqueueMessage(frame, nowNano) {
				delivered++
			}
		}
	}
	send(exact)
	for _, p := range patterns {
		send(p)
	}
	clear(seen)
	seenPool.Put(seen)
	return delivered
}

// newChanState makes a channel's publication state, with a history ring
// when [history] covers the channel.
func (s *Server) newChanState(channel string) *chanState {
	st := &chanState{}
	if s.historyEnabled(channel) {
		st.hist = newHistory(s.cfg.History.Size, &s.histBytes)
	}
	return st
}

// sweepChannels drops the publication state of channels nobody subscribes
// to and nobody published to for chanStateTTL.
func (s *Server) sweepChannels(now time.Time) {
	cutoff := now.Add(-chanStateTTL).UnixNano()
	s.chans.sweep(cutoff, func(ch string) bool { return s.idx.Lookup(ch).Len() == 0 })
}
