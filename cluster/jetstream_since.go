package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"

	"wsfan/index"
)

// Reading a channel from the stream uses JetStream's direct get
// ($JS.API.DIRECT.GET.<stream>, the stream allows it): the last message of
// a subject for Publish, and for Since, Position and the plain-message rule
// a batch of every message the stream holds on the subject (its window: at
// most max_msgs_per_channel messages, one request).

// Msg is a recovered publication, as DeliverSeq would have handed it over.
type Msg struct {
	Seq  uint64 // the channel's seq
	TS   int64  // the stream's timestamp, Unix milliseconds
	Data []byte // the publisher's JSON value, trimmed; the caller owns it
}

// Since returns the publications of channel after seq afterSeq, in order,
// read from the stream, and whether they are exactly what a client at
// afterSeq missed (recovered). recovered is false, with no messages, when
// the stream no longer holds the whole range (evicted by max_age or
// max_msgs_per_channel), when afterSeq is not in the channel's current
// numbering (another epoch, a restarted numbering, a seq never handed out),
// when more than limit would be returned, or when the range is numbered
// from an uncertain anchor this node did not deliver (jetstream_seq.go).
// Messages whose body is not valid JSON are skipped, as they are live: the
// client sees the same gap.
//
// afterSeq equal to the channel's last seq is recovered with no messages;
// so is a channel the stream holds nothing of when this node delivered its
// last message as afterSeq and is not catching up.
//
// limit <= 0 or above MaxMsgsPerChannel means MaxMsgsPerChannel. The read
// is one direct-get request (more only when the window is over the server's
// max_pending bytes), bounded by ctx and publish_timeout. Since does not
// deliver anything: the caller replays the messages before the live ones,
// skipping live messages with seq <= the last replayed (its node may be
// behind or ahead of the stream). The error is ErrUnavailable (wrapped)
// when the stream could not be read, or index.ErrInvalidChannel.
func (s *Stream) Since(ctx context.Context, channel string, afterSeq uint64, limit int) ([]Msg, bool, error) {
	if !index.ValidChannel(channel) {
		return nil, false, fmt.Errorf("channel %q: %w", channel, index.ErrInvalidChannel)
	}
	if limit <= 0 || limit > s.maxPer {
		limit = s.maxPer
	}
	if err := s.unavailable(); err != nil {
		return nil, false, err
	}
	ctx, cancel := s.requestContext(ctx)
	defer cancel()
	e, _ := s.seqs.get(channel)
	var w []stored
	for attempt := 0; ; attempt++ {
		var err error
		if w, err = s.window(ctx, channel); err != nil {
			return nil, false, err
		}
		// A replica behind the leader may answer a direct get: what this
		// node delivered must be there.
		if e.delivered.sseq == 0 || len(w) > 0 && w[len(w)-1].sseq >= e.delivered.sseq || attempt == 1 {
			break
		}
	}
	if len(w) == 0 {
		ok := e.newest().seq == afterSeq && afterSeq != 0 && !s.CatchingUp()
		return nil, ok, nil
	}
	if e.delivered.sseq != 0 && w[len(w)-1].sseq < e.delivered.sseq {
		return nil, false, nil // stale again
	}
	seqs, certain := numberWindow(w, e.delivered, s.maxAge)
	// The first message after afterSeq, and the range from it, must be
	// numbered for certain, consecutive, and start right after afterSeq.
	i := 0
	for i < len(w) && seqs[i] <= afterSeq {
		i++
	}
	switch {
	case i == len(w):
		return nil, seqs[i-1] == afterSeq && i-1 >= certain, nil
	case i < certain:
		return nil, false, nil
	case seqs[i] != afterSeq+1:
		return nil, false, nil // evicted, another numbering, or a seq never handed out
	case len(w)-i > limit:
		return nil, false, nil
	}
	out := make([]Msg, 0, len(w)-i)
	for j := i; j < len(w); j++ {
		if j > i && seqs[j] != seqs[j-1]+1 {
			return nil, false, nil // a jump: nodes numbered differently
		}
		data, ok := validBody(w[j].data)
		if !ok {
			continue
		}
		out = append(out, Msg{Seq: seqs[j], TS: w[j].ts / int64(time.Millisecond), Data: data})
	}
	return out, true, nil
}

// Position returns the seq of channel's newest publication that this node
// has delivered, or that comes before the point its delivery has reached:
// the position to report to a client that subscribes now, whose next live
// message will be Position + 1. 0 when the stream holds nothing of the
// channel up to that point (its next publication starts a new numbering:
// the client sees a jump). It costs nothing when this node delivered a
// publication of the channel, one direct get otherwise. The error is
// ErrUnavailable (wrapped) or index.ErrInvalidChannel.
func (s *Stream) Position(ctx context.Context, channel string) (uint64, error) {
	if !index.ValidChannel(channel) {
		return 0, fmt.Errorf("channel %q: %w", channel, index.ErrInvalidChannel)
	}
	e, _ := s.seqs.get(channel)
	if e.delivered.sseq != 0 {
		return e.delivered.seq, nil
	}
	if err := s.unavailable(); err != nil {
		return 0, err
	}
	ctx, cancel := s.requestContext(ctx)
	defer cancel()
	w, err := s.window(ctx, channel)
	if err != nil {
		return 0, err
	}
	d := s.delivered.Load()
	n := 0
	for n < len(w) && w[n].sseq <= d {
		n++
	}
	if n == 0 {
		return 0, nil
	}
	seqs, _ := numberWindow(w, known{}, s.maxAge)
	return seqs[n-1], nil
}

// requestContext bounds ctx by publish_timeout and by Close.
func (s *Stream) requestContext(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.PublishTimeout)
	stop := context.AfterFunc(s.ctx, cancel)
	return ctx, func() {
		stop()
		cancel()
	}
}

// directGetSubject is the direct get API of the stream.
func (s *Stream) directGetSubject() string { return "$JS.API.DIRECT.GET." + s.name }

// windowChanLen is the most messages of a window read that may wait in
// the subscription's channel (SubscribeSync would allocate nats.go's
// default 64K slots, 512 KB, per read). Past it nats.go drops, which the
// read notices and fails.
const windowChanLen = 1024

// window returns the messages the stream holds on channel, oldest first.
func (s *Stream) window(ctx context.Context, channel string) ([]stored, error) {
	subject := s.prefix + channel
	inbox := s.nc.NewInbox()
	msgs := make(chan *nats.Msg, min(s.maxPer+1, windowChanLen))
	sub, err := s.nc.ChanSubscribe(inbox, msgs)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer sub.Unsubscribe() //nolint:errcheck // nothing to do about it
	fail := func(err error) ([]stored, error) {
		return nil, fmt.Errorf("%w: cannot read %s from the stream: %w", ErrUnavailable, channel, err)
	}
	w := make([]stored, 0, min(s.maxPer, windowChanLen))
	from := uint64(0)
	for {
		// channel is [A-Za-z0-9_-.]: %q writes it as JSON would.
		req := fmt.Appendf(nil, `{"seq":%d,"next_by_subj":%q,"batch":%d}`, from, subject, s.maxPer)
		if err := s.nc.PublishRequest(s.directGetSubject(), inbox, req); err != nil {
			return fail(err)
		}
	batch:
		for {
			var m *nats.Msg
			select {
			case m = <-msgs:
			case <-ctx.Done():
				return fail(ctx.Err())
			}
			switch status := m.Header.Get("Status"); status {
			case "":
				st, err := parseStored(m)
				if err != nil {
					return fail(err)
				}
				w = append(w, st)
			case "404":
				return w, nil // nothing (more) from seq
			case "204": // end of the batch
				if n, _ := sub.Dropped(); n > 0 {
					return fail(fmt.Errorf("%d messages of the answer dropped", n))
				}
				pending, _ := strconv.ParseUint(m.Header.Get("Nats-Num-Pending"), 10, 64)
				if pending == 0 || len(w) == 0 || len(w) >= 2*maxMsgsPerChannel {
					return w, nil
				}
				from = w[len(w)-1].sseq + 1 // over max_bytes: go on
				break batch
			default:
				return fail(fmt.Errorf("status %s %s", status, m.Header.Get("Description")))
			}
		}
	}
}

// lastStored returns the stream's last message on channel; ok is false
// when the stream holds none.
func (s *Stream) lastStored(ctx context.Context, channel string) (st stored, ok bool, err error) {
	req := fmt.Appendf(nil, `{"last_by_subj":%q}`, s.prefix+channel)
	m, err := s.nc.RequestWithContext(ctx, s.directGetSubject(), req)
	if err != nil {
		return stored{}, false, fmt.Errorf("%w: cannot read %s from the stream: %w", ErrUnavailable, channel, err)
	}
	switch status := m.Header.Get("Status"); status {
	case "":
		st, err = parseStored(m)
		if err != nil {
			return stored{}, false, fmt.Errorf("%w: reading %s: %w", ErrUnavailable, channel, err)
		}
		return st, true, nil
	case "404":
		return stored{}, false, nil
	default:
		return stored{}, false, fmt.Errorf("%w: reading %s: status %s %s", ErrUnavailable, channel, status,
			m.Header.Get("Description"))
	}
}

// parseStored reads a direct get answer.
func parseStored(m *nats.Msg) (stored, error) {
	sseq, err := strconv.ParseUint(m.Header.Get("Nats-Sequence"), 10, 64)
	if err != nil {
		return stored{}, errors.New("direct get answer without Nats-Sequence")
	}
	ts, err := time.Parse(time.RFC3339Nano, m.Header.Get("Nats-Time-Stamp"))
	if err != nil {
		return stored{}, errors.New("direct get answer without Nats-Time-Stamp")
	}
	return stored{sseq: sseq, ts: ts.UnixNano(), hseq: parseSeqHeader(m.Header.Get(SeqHeader)), data: m.Data}, nil
}
