package cluster

import (
	"context"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"
)

// What a publication is checked against: the channel's last message
// (chainState), and the message that carries the next seq.

// pubMsg is p as a JetStream message with seq, checked against the
// channel's last stream sequence lastSseq (0: none) when expect is set.
func (s *Stream) pubMsg(p *Pub, seq, lastSseq uint64, expect bool) *nats.Msg {
	h := nats.Header{SeqHeader: []string{strconv.FormatUint(seq, 10)}}
	if expect {
		h[expectedHeader] = []string{strconv.FormatUint(lastSseq, 10)}
	}
	if p.ID != "" {
		h[msgIDHeader] = []string{p.ID}
	}
	return &nats.Msg{Subject: s.prefix + p.Channel, Data: p.Data, Header: h}
}

// chainState is what a publish knows of a channel's last message.
type chainState struct {
	last known // sseq 0: the stream holds nothing of the channel
	// prev, when last.sseq is 0, is the newest message this node knew of
	// before learning that the stream holds nothing: the numbering
	// continues from it (see nextSeq).
	prev  known
	stale bool // last is unknown: read it before publishing
}

// lastFor returns what this node knows of ch's last message, or reads it.
func (s *Stream) lastFor(ctx context.Context, ch string) (chainState, error) {
	if k := s.seqs.last(ch); k.sseq != 0 {
		return chainState{last: k}, nil
	}
	return s.readLast(ctx, ch, 0, known{})
}

// readLast learns ch's last message from the stream. actual, when not 0, is
// its stream sequence (JetStream said so): when this node delivered that
// message, nothing is read. prev is the newest message known before.
func (s *Stream) readLast(ctx context.Context, ch string, actual uint64, prev known) (chainState, error) {
	if k := s.seqs.last(ch); k.sseq > prev.sseq {
		prev = k
	}
	if actual != 0 && prev.sseq == actual {
		return chainState{last: prev}, nil
	}
	st, ok, err := s.lastStored(ctx, ch)
	switch {
	case err != nil:
		return chainState{}, err
	case !ok:
		return chainState{prev: prev}, nil // nothing: the numbering restarts or continues
	case st.hseq != 0:
		return chainState{last: known{st.sseq, st.hseq}}, nil
	case prev.sseq == st.sseq:
		return chainState{last: prev}, nil
	}
	// A plain message: number the channel's window.
	w, err := s.window(ctx, ch)
	if err != nil {
		return chainState{}, err
	}
	if len(w) == 0 {
		return chainState{prev: prev}, nil
	}
	e, _ := s.seqs.get(ch)
	seqs, _ := numberWindow(w, e.delivered, s.maxAge)
	return chainState{last: known{w[len(w)-1].sseq, seqs[len(w)-1]}}, nil
}

// nextSeq is the seq of the next publication after c. When the stream holds
// nothing of the channel a numbering starts: after the channel's last seq
// when this node knew its last message and is not catching up (it would
// have seen anything newer), else after the stream's last sequence (which
// is at least any seq the channel had: the invariant).
func (s *Stream) nextSeq(ctx context.Context, c chainState) (uint64, error) {
	if c.last.sseq != 0 {
		return c.last.seq + 1, nil
	}
	if !s.CatchingUp() {
		if c.prev.seq != 0 {
			return c.prev.seq + 1, nil
		}
		return max(s.delivered.Load(), s.seqs.maxAck.Load()) + 1, nil
	}
	st, err := s.js.Stream(ctx, s.name)
	if err != nil {
		return 0, fmt.Errorf("%w: cannot read the stream's state: %w", ErrUnavailable, err)
	}
	return st.CachedInfo().State.LastSeq + 1, nil
}
