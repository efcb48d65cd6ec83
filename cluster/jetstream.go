package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const (
	// defaultHeartbeat is the consumer's idle heartbeat: with nothing to
	// deliver the server says so at this interval, and a consumer silent
	// for staleHeartbeats of them is re-created.
	defaultHeartbeat = 2 * time.Second
	staleHeartbeats  = 3
	// consumerInactive is how long the server keeps this node's consumer
	// once nobody listens on its deliver subject (the node died, or
	// re-created it after a reconnect).
	consumerInactive = 30 * time.Second
	// dedupeWindow is the stream's Duplicates window for Nats-Msg-Id when
	// wsfan creates it (capped by max_age, as JetStream requires).
	dedupeWindow = 2 * time.Minute
)

// DeliverSeq is called once for every publication of the stream, in stream
// order, from the stream's one delivery goroutine. channel is the subject
// minus the prefix, a valid concrete channel; seq is the channel's seq,
// the same on every node (see the numbering rule in jetstream_seq.go); ts
// is the stream's timestamp of the message in Unix milliseconds; data is
// the body, valid UTF-8 JSON with surrounding white space trimmed, and is
// only valid during the call.
//
// For one channel the seqs handed over are consecutive, except where the
// stream no longer held what lies between (an outage longer than max_age,
// more than max_msgs_per_channel publications missed, an anchor) or a
// message was not valid JSON (it keeps its seq and is not delivered).
// While DeliverSeq runs nothing else is delivered; JetStream holds the rest
// (nothing is lost), so it should hand the message on quickly. It must not
// call Stream.Close.
type DeliverSeq func(channel string, seq uint64, ts int64, data []byte)

// Stream bridges one wsfan node to a JetStream stream holding every channel.
// Create it with ConnectStream. All its methods are safe for concurrent use.
type Stream struct {
	conn    // the connection, its state and handlers (conn.go)
	prefix  string
	name    string // the stream's name
	deliver DeliverSeq
	js      jetstream.JetStream
	hb      time.Duration // the consumer's idle heartbeat

	// Set up by ConnectStream from the stream as it is, and not changed
	// afterwards: the history depth, the age limit (0: none) and when
	// atomic batches are used.
	maxPer int
	maxAge time.Duration
	batch  batchPolicy

	// epoch names the stream's incarnation (streamEpoch); it changes when
	// the consumer finds the stream deleted and recreated.
	epoch   atomic.Pointer[string]
	created time.Time // the incarnation's creation time; consumer goroutine only

	seqs *seqCache

	inbox  chan *nats.Msg // every message of the consumer's subscriptions
	resetC chan struct{}  // size 1: the consumer is to be re-created (a reconnect)
	stop   chan struct{}  // closed by Close
	done   chan struct{}  // closed when the consumer goroutine has exited
	once   sync.Once
	// ctx is cancelled by Close: JetStream requests in flight end.
	ctx    context.Context
	cancel context.CancelFunc

	// Consumer goroutine only: the stream sequence of the first message
	// after the last jump in delivered stream sequences (messages the
	// consumer never saw), and the stream time of the last delivered one.
	skipAt uint64
	lastTs int64

	// delivered is the last stream sequence the consumer handled, delivered
	// or not (a drop); the next consumer starts after it.
	delivered  atomic.Uint64
	target     atomic.Uint64 // catching up ends once delivered reaches it
	pending    atomic.Uint64 // messages in the stream after the last handled one
	catchingUp atomic.Bool
	resets     atomic.Uint64 // consumers re-created

	in, out, anchors, conflicts, skipped atomic.Uint64
	skipLog                              logLimiter
	drops                                dropCounter // stream messages not delivered: no channel, or not UTF-8 JSON
}

// ConnectStream validates cfg (zero fields take their defaults; JetStream
// must be enabled), connects to NATS, creates the stream cfg.JetStream.Stream
// on subject_prefix + ">" when it is missing, checks it when it exists (an
// error lists what is incompatible; differences that only change limits are
// logged as warnings and the stream's own values apply), and starts
// delivering the publications stored from now on. It fails when NATS or
// JetStream cannot be reached now; once connected it reconnects by itself.
// log may be nil.
//
// A stream created by wsfan has file storage, the configured replicas,
// max_age and max_msgs_per_channel (per subject), discard old, a 2-minute
// (at most max_age) duplicates window for Nats-Msg-Id, direct get and
// atomic batch publish allowed.
func ConnectStream(cfg Config, deliver DeliverSeq, log *slog.Logger) (*Stream, error) {
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !cfg.Enabled() || !cfg.JetStream.Enabled() {
		return nil, errors.New("cluster: nats.urls or nats.jetstream.stream is empty")
	}
	if deliver == nil {
		return nil, errors.New("cluster: nil DeliverSeq")
	}
	if log == nil {
		log = slog.Default()
	}
	return connectStream(cfg, deliver, log, defaultHeartbeat)
}

// connectStream is ConnectStream with the consumer's heartbeat chosen
// (tests make it short).
func connectStream(cfg Config, deliver DeliverSeq, log *slog.Logger, hb time.Duration) (*Stream, error) {
	s := &Stream{
		conn:    conn{cfg: cfg, log: log.With("component", "jetstream", "stream", cfg.JetStream.Stream)},
		prefix:  cfg.SubjectPrefix,
		name:    cfg.JetStream.Stream,
		deliver: deliver,
		hb:      hb,
		seqs:    newSeqCache(),
		inbox:   make(chan *nats.Msg, cfg.PendingLimit),
		resetC:  make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	err := s.dial(connHooks{
		disconnected: func(reason string) {
			s.catchingUp.Store(true) // before the state: !Connected() implies CatchingUp()
			s.log.Warn("NATS disconnected; publishing answers 503, delivery resumes from the stream after reconnecting",
				"err", reason)
		},
		reconnected: func() {
			s.log.Info("NATS reconnected; resuming delivery from the stream", "url", s.nc.ConnectedUrlRedacted(),
				"after_stream_seq", s.delivered.Load())
			s.requestReset()
		},
		slowConsumer: func(*nats.Subscription) {
			// Messages dropped in nats.go: the consumer sees the gap in
			// its sequence and re-creates itself after what it delivered.
			s.log.Warn("JetStream deliveries dropped in the client (pending_limit reached); resuming from the stream",
				"pending_limit", s.cfg.PendingLimit)
		},
	})
	if err != nil {
		s.cancel()
		return nil, err
	}
	fail := func(err error) (*Stream, error) {
		s.cancel()
		s.closing.Store(true)
		s.nc.Close()
		return nil, err
	}
	if s.js, err = jetstream.New(s.nc); err != nil {
		return fail(fmt.Errorf("cannot use JetStream: %w", err))
	}
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout(cfg))
	defer cancel()
	info, err := s.setup(ctx)
	if err != nil {
		return fail(err)
	}
	s.created = info.Created
	s.setEpoch(info)
	c := info.Config
	s.maxPer, s.maxAge = int(c.MaxMsgsPerSubject), c.MaxAge
	if c.AllowAtomicPublish {
		s.batch = batchRepeats
	}
	// A fresh node starts with what is stored from now on; its clients
	// recover what came before with Since.
	s.delivered.Store(info.State.LastSeq)
	go s.run()
	r := cfg.Redacted()
	s.log.Info("connected to JetStream", "url", s.nc.ConnectedUrlRedacted(), "server", s.nc.ConnectedServerName(),
		"urls", r.URLs, "subject_prefix", cfg.SubjectPrefix, "name", cfg.Name, "epoch", s.Epoch(),
		"replicas", c.Replicas, "storage", c.Storage.String(), "max_age", c.MaxAge,
		"max_msgs_per_channel", c.MaxMsgsPerSubject, "duplicates", c.Duplicates, "atomic_publish", c.AllowAtomicPublish,
		"stream_last_seq", info.State.LastSeq, "publish_timeout", cfg.PublishTimeout,
		"reconnect_wait", cfg.ReconnectWait, "max_reconnects", cfg.MaxReconnects, "pending_limit", cfg.PendingLimit)
	return s, nil
}

// Epoch returns the name of the stream's incarnation, for positions: every
// node connected to the same stream returns the same string. It changes
// only when the stream was deleted and recreated (noticed when the consumer
// is re-created, before the first delivery of the new stream); seqs of
// different epochs are unrelated. It never blocks.
func (s *Stream) Epoch() string { return *s.epoch.Load() }

// MaxMsgsPerChannel returns the stream's per-channel limit: the history
// depth Since recovers from, and the most it returns.
func (s *Stream) MaxMsgsPerChannel() int { return s.maxPer }

// CatchingUp reports whether delivery may be behind the stream after a gap:
// while disconnected, and from a disconnect or a re-created consumer until
// the consumer has handed over every message the stream held when it
// resumed (or the server says there is nothing more). The internal
// listener's health check shows it. It never blocks.
func (s *Stream) CatchingUp() bool { return s.catchingUp.Load() || !s.Connected() }

// Pending returns how many stream messages followed the last one delivered,
// when it was sent: the delivery backlog. It never blocks.
func (s *Stream) Pending() uint64 { return s.pending.Load() }

// Status describes the connection and delivery for health checks and logs:
// "connected to nats://...", with "; catching up (N pending)" appended while
// CatchingUp, or "reconnecting: <last error>", "draining", "closed". It
// never blocks.
func (s *Stream) Status() string {
	st := s.connStatus()
	if s.Connected() && s.CatchingUp() {
		st += fmt.Sprintf("; catching up (%d pending)", s.pending.Load())
	}
	return st
}

// StreamStats are a Stream's counters; each only grows.
type StreamStats struct {
	In        uint64 // publications handed to DeliverSeq
	Out       uint64 // publications Publish had acknowledged (duplicates included)
	Dropped   uint64 // stream messages not delivered: subject not a channel, or body not UTF-8 JSON
	Resets    uint64 // consumers re-created (reconnects, gaps, silence)
	Anchors   uint64 // plain messages that started a new numbering
	Conflicts uint64 // publications (or batches) retried: another one got to the channel first
	// Skipped counts stream sequences the consumer passed over: messages
	// evicted (max_msgs_per_channel, max_age) or deleted before this node
	// delivered them, because it was that far behind; and, in a stream
	// with subjects besides subject_prefix + ">", those messages.
	Skipped uint64
}

// Stats returns the counters. It never blocks.
func (s *Stream) Stats() StreamStats {
	return StreamStats{In: s.in.Load(), Out: s.out.Load(), Dropped: s.drops.n.Load(),
		Resets: s.resets.Load(), Anchors: s.anchors.Load(), Conflicts: s.conflicts.Load(), Skipped: s.skipped.Load()}
}

// requestReset asks the consumer goroutine to re-create the consumer.
func (s *Stream) requestReset() {
	select {
	case s.resetC <- struct{}{}:
	default:
	}
}

// Close stops delivery (DeliverSeq is not called once it returns), removes
// this node's consumer from the server, drains and closes the connection. A
// Publish or Since still running fails with ErrUnavailable. It waits up to
// about 6 s for NATS. It may be called more than once; it always returns
// nil.
func (s *Stream) Close() error {
	s.once.Do(func() {
		s.cancel() // ends the consumer goroutine's requests at once
		close(s.stop)
		<-s.done
		s.shutdown()
	})
	return nil
}
