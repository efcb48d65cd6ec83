package cluster

import (
	"context"
	"strconv"
	"strings"
	"time"
	"wsfan/index"

	"github.com/nats-io/nats.go"
)

// A consumed message handed on: numbered (its header, or the plain-message
// rule) and delivered.

// deliverMsg numbers a message and hands it to DeliverSeq; false when the
// numbering needs the stream and it cannot be read now.
func (s *Stream) deliverMsg(m *nats.Msg, meta ackMeta) bool {
	channel, ok := strings.CutPrefix(m.Subject, s.prefix)
	if !ok || !index.ValidChannel(channel) {
		s.drops.drop(s.log, "subject is not a valid channel", m.Subject)
		return true
	}
	seq, ok := s.numberLive(channel, meta.sseq, meta.ts, m.Header)
	if !ok {
		return false
	}
	s.seqs.setDelivered(channel, known{meta.sseq, seq}, meta.ts)
	data, ok := validBody(m.Data)
	if !ok {
		// It keeps its seq, on every node: clients see a gap.
		s.drops.drop(s.log, "body is not valid UTF-8 JSON", m.Subject)
		return true
	}
	s.in.Add(1)
	s.deliver(channel, seq, meta.ts/int64(time.Millisecond), data)
	return true
}

// numberLive numbers the message at stream sequence sseq of channel: from
// its header, from the channel's previous message when this node delivered
// it (and delivered everything since), or else from the channel's window
// in the stream. false: the window could not be read.
func (s *Stream) numberLive(channel string, sseq uint64, ts int64, hdr nats.Header) (uint64, bool) {
	if seq := parseSeqHeader(hdr.Get(SeqHeader)); seq != 0 {
		return seq, true
	}
	e, _ := s.seqs.get(channel)
	if d := e.delivered; d.sseq != 0 && d.sseq < sseq && d.sseq >= s.skipAt {
		if idleAnchor(ts, e.deliverTs, s.maxAge) {
			s.anchors.Add(1)
			return sseq, true
		}
		return d.seq + 1, true
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.PublishTimeout)
	defer cancel()
	for attempt := 0; attempt < 2; attempt++ {
		w, err := s.window(ctx, channel)
		if err != nil {
			s.log.Warn("cannot read a channel's messages to number a plain message", "channel", channel, "err", err)
			return 0, false
		}
		for i := range w {
			if w[i].sseq != sseq {
				continue
			}
			seqs, certain := numberWindow(w, e.delivered, s.maxAge)
			if i < certain {
				s.anchors.Add(1) // numbered from an uncertain anchor
			}
			return seqs[i], true
		}
		if len(w) > 0 && w[len(w)-1].sseq > sseq {
			break // evicted already
		}
		// Not there yet: a replica behind the leader answered; once more.
	}
	s.anchors.Add(1)
	return sseq, true
}

// ackMeta is what a JetStream message's reply subject says about it.
type ackMeta struct {
	sseq, cseq, pending uint64
	ts                  int64 // Unix ns
}

// parseAckReply reads $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>
// and its newer form with <domain>.<account hash> after ACK and a random
// token at the end, without allocating.
func parseAckReply(r string) (ackMeta, bool) {
	rest, ok := strings.CutPrefix(r, "$JS.ACK.")
	if !ok {
		return ackMeta{}, false
	}
	var tok [12]string
	n := 0
	for n < len(tok) {
		t, after, more := strings.Cut(rest, ".")
		tok[n] = t
		n++
		if !more {
			break
		}
		rest = after
	}
	var off int // index of <delivered>
	switch {
	case n == 7:
		off = 2
	case n >= 9:
		off = 4
	default:
		return ackMeta{}, false
	}
	num := func(i int) (uint64, bool) {
		v, err := strconv.ParseUint(tok[off+i], 10, 64)
		return v, err == nil
	}
	sseq, ok1 := num(1)
	cseq, ok2 := num(2)
	ts, ok3 := num(3)
	pending, ok4 := num(4)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return ackMeta{}, false
	}
	return ackMeta{sseq: sseq, cseq: cseq, pending: pending, ts: int64(ts)}, true
}
