package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Delivery. The stream's one goroutine (run) owns a push consumer of the
// whole stream (filter subject_prefix + ">"; taking everything keeps the
// order and the numbering simple: a node receives every channel whether or
// not a local client holds it). It is an ephemeral, in-memory consumer
// without acks, with flow control and idle heartbeats, delivering to an
// inbox of this connection. The goroutine numbers each message
// (jetstream_seq.go) and calls DeliverSeq, in stream order.
//
// Nothing skipped, nothing twice: the goroutine remembers the stream
// sequence of the last message it handled (delivered) and checks that the
// consumer's own sequence has no gap. On a reconnect, a gap (messages
// dropped in the client, a heartbeat announcing messages it did not get),
// a consumer the server lost (409, or silence for 3 heartbeats) it drops
// the consumer and creates a new one starting at delivered + 1. Messages
// of an old consumer still queued are ignored.

const (
	// openBackoffMin and openBackoffMax bound the wait between attempts to
	// create the consumer (JetStream not ready, stream gone...).
	openBackoffMin = 50 * time.Millisecond
	openBackoffMax = 2 * time.Second
)

// consumer is one incarnation of the node's push consumer.
type consumer struct {
	name string
	sub  *nats.Subscription
	cseq uint64 // the consumer sequence of the last message handled
}

// run is the consumer goroutine.
func (s *Stream) run() {
	defer close(s.done)
	var cur *consumer
	defer func() {
		if cur != nil {
			s.dropConsumer(cur, true)
		}
	}()
	stale := staleHeartbeats * s.hb
	idle := time.NewTimer(stale)
	defer idle.Stop()
	var heard time.Time // the current consumer's last message, heartbeat included
	prune := time.NewTicker(pruneInterval(s.maxAge))
	defer prune.Stop()
	for {
		if cur == nil {
			if cur = s.open(); cur == nil {
				return // stopping
			}
			heard = time.Now()
			idle.Reset(stale)
		}
		select {
		case <-s.stop:
			return
		case <-s.resetC:
			s.dropConsumer(cur, false)
			cur = nil
		case <-idle.C:
			if quiet := time.Since(heard); quiet < stale {
				idle.Reset(stale - quiet) // DeliverSeq took long: not the consumer's silence
				continue
			}
			s.log.Warn("JetStream consumer silent; re-creating it", "for", stale, "consumer", cur.name)
			s.dropConsumer(cur, false)
			cur = nil
		case <-prune.C:
			if s.maxAge > 0 && s.lastTs > 0 {
				s.seqs.prune(s.lastTs - int64(s.maxAge) - int64(time.Minute))
			}
		case m := <-s.inbox:
			if m.Sub != cur.sub {
				continue // queued by a consumer dropped since
			}
			if !s.handle(cur, m) {
				s.dropConsumer(cur, false)
				cur = nil
			}
			// After handling: time DeliverSeq took is not silence.
			heard = time.Now()
		}
	}
}

// pruneInterval is how often the seq cache forgets channels idle for
// longer than max_age: a tenth of it, within [10s, 10m].
func pruneInterval(maxAge time.Duration) time.Duration {
	return min(max(maxAge/10, 10*time.Second), 10*time.Minute)
}

// open creates a consumer that starts after delivered, retrying with
// backoff until it succeeds; nil when the stream is closing.
func (s *Stream) open() *consumer {
	wait := openBackoffMin
	for attempt := 0; ; attempt++ {
		if !s.Connected() {
			// The reconnect handler sends on resetC once the
			// connection and its subscriptions are back.
			select {
			case <-s.stop:
				return nil
			case <-s.resetC:
			}
		}
		c, err := s.create()
		if err == nil {
			if attempt > 0 || s.resets.Load() > 0 {
				s.log.Info("JetStream consumer re-created", "consumer", c.name,
					"after_stream_seq", s.delivered.Load(), "catching_up", s.catchingUp.Load())
			}
			return c
		}
		if s.ctx.Err() != nil {
			return nil
		}
		if attempt == 0 || attempt%20 == 0 {
			s.log.Warn("cannot create the JetStream consumer; retrying", "err", err, "attempt", attempt+1)
		}
		select {
		case <-s.stop:
			return nil
		case <-s.resetC:
		case <-time.After(wait):
		}
		wait = min(2*wait, openBackoffMax)
	}
}

// create reads the stream's state (recreating the stream when it is gone,
// and starting a new epoch when it is a new incarnation) and creates the
// consumer on a new inbox.
func (s *Stream) create() (*consumer, error) {
	ctx, cancel := context.WithTimeout(s.ctx, setupTimeout(s.cfg))
	defer cancel()
	var info *jetstream.StreamInfo
	st, err := s.js.Stream(ctx, s.name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		info, err = s.setup(ctx)
	} else if err == nil {
		info = st.CachedInfo()
	}
	if err != nil {
		return nil, err
	}
	if !info.Created.Equal(s.created) {
		old := s.Epoch()
		s.created = info.Created
		s.seqs.clear()
		s.skipAt = 0
		s.delivered.Store(max(info.State.FirstSeq, 1) - 1) // the whole new stream is delivered
		s.setEpoch(info)                                   // last: the new epoch finds the state reset
		s.log.Warn("JetStream stream was recreated: a new epoch; positions of the old one do not recover",
			"old_epoch", old, "epoch", s.Epoch())
	}
	next := s.delivered.Load() + 1
	s.target.Store(info.State.LastSeq)

	inbox := s.nc.NewInbox()
	sub, err := s.nc.ChanSubscribe(inbox, s.inbox)
	if err != nil {
		return nil, err
	}
	pc, err := s.js.CreateOrUpdatePushConsumer(ctx, s.name, jetstream.ConsumerConfig{
		Description:       "wsfan node " + s.cfg.Name,
		DeliverSubject:    inbox,
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       next,
		AckPolicy:         jetstream.AckNonePolicy,
		FlowControl:       true,
		IdleHeartbeat:     s.hb,
		FilterSubject:     s.prefix + ">",
		MemoryStorage:     true,
		Replicas:          1,
		InactiveThreshold: consumerInactive,
	})
	if err != nil {
		_ = sub.Unsubscribe()
		return nil, err
	}
	ci := pc.CachedInfo()
	s.pending.Store(ci.NumPending)
	s.catchingUp.Store(ci.NumPending > 0 && next <= info.State.LastSeq)
	return &consumer{name: ci.Name, sub: sub}, nil
}

// dropConsumer stops listening to c (its queued messages are ignored from
// now on); with remove it also deletes it on the server (at Close;
// otherwise the server drops it once nobody listens). Any other reason to
// drop it is a gap: the stream catches up.
func (s *Stream) dropConsumer(c *consumer, remove bool) {
	_ = c.sub.Unsubscribe()
	if !remove {
		s.resets.Add(1)
		s.catchingUp.Store(true)
		return
	}
	if s.Connected() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = s.js.DeleteConsumer(ctx, s.name, c.name)
		cancel()
	}
}

// handle processes one message of the current consumer; false means the
// consumer is to be re-created (after what was delivered).
func (s *Stream) handle(c *consumer, m *nats.Msg) bool {
	if len(m.Data) == 0 && m.Header != nil {
		if status := m.Header.Get("Status"); status != "" {
			return s.handleStatus(c, m, status)
		}
	}
	meta, ok := parseAckReply(m.Reply)
	if !ok {
		s.drops.drop(s.log, "not a JetStream message", m.Subject)
		return true
	}
	if meta.cseq != c.cseq+1 {
		s.log.Info("JetStream consumer sequence gap; re-creating it", "want", c.cseq+1, "got", meta.cseq)
		return false
	}
	c.cseq = meta.cseq
	last := s.delivered.Load()
	if meta.sseq <= last {
		return true // handled already (cannot happen with a new consumer's start)
	}
	if meta.sseq != last+1 {
		// The stream no longer held what lies between (or it is not
		// ours): the numbering of plain messages cannot rely on what
		// this node delivered before it.
		s.skipAt = meta.sseq
		s.skipped.Add(meta.sseq - last - 1)
		if s.skipLog.Limit() {
			s.log.Warn("JetStream messages gone before this node delivered them: it was more than max_msgs_per_channel "+
				"publications of a channel (or max_age) behind; clients see the gap",
				"stream_seqs", fmt.Sprintf("%d-%d", last+1, meta.sseq-1), "skipped_total", s.skipped.Load())
		}
	}
	if !s.deliverMsg(m, meta) {
		return false // the stream cannot be read now: from this message again
	}
	s.delivered.Store(meta.sseq)
	s.pending.Store(meta.pending)
	s.lastTs = meta.ts
	if meta.pending == 0 || meta.sseq >= s.target.Load() {
		s.catchingUp.Store(false)
	}
	return true
}

// handleStatus answers flow control and checks heartbeats.
func (s *Stream) handleStatus(c *consumer, m *nats.Msg, status string) bool {
	if status != "100" {
		// 409 Consumer Deleted, leadership changes and the like.
		s.log.Info("JetStream consumer status; re-creating it", "status", status,
			"description", m.Header.Get("Description"))
		return false
	}
	if m.Reply != "" { // a flow control request: everything before it is handled
		_ = s.nc.Publish(m.Reply, nil)
	}
	if stalled := m.Header.Get("Nats-Consumer-Stalled"); stalled != "" {
		_ = s.nc.Publish(stalled, nil)
	}
	if v := m.Header.Get("Nats-Last-Consumer"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err == nil && n > c.cseq {
			s.log.Info("JetStream heartbeat shows missed messages; re-creating the consumer",
				"delivered", c.cseq, "sent", n)
			return false
		}
		if err == nil && m.Reply == "" {
			// An idle heartbeat: the server has nothing more for us.
			s.pending.Store(0)
			s.catchingUp.Store(false)
		}
	}
	return true
}
