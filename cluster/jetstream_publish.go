package cluster

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nuid"

	"wsfan/index"
)

// Pub is a publication for Stream.Publish.
type Pub struct {
	Channel string // a valid concrete channel
	Data    []byte // the publisher's JSON value, stored and delivered byte for byte
	// ID is an optional idempotency key: JetStream stores a publication
	// whose ID it stored within the stream's duplicates window (2 min by
	// default) once. At most 64 bytes, no control characters, no space
	// at either end.
	ID string
}

// ErrInvalidID is wrapped by Publish's error when a publication's ID is
// over 64 bytes or has a control character or a space at either end;
// nothing was published. The publish API answers 400.
var ErrInvalidID = errors.New("cluster: publication id over 64 bytes, with control characters or surrounding spaces")

const (
	maxIDBytes = 64
	// headerRoom is what Publish adds to a publication's size in headers,
	// at most (seq, expected sequence, id, batch headers).
	headerRoom = 512
	// maxConflicts bounds the retries of one publication (or one atomic
	// batch) after JetStream refused it because another node published on
	// the channel meanwhile (wrong last sequence); publish_timeout bounds
	// them too. From the second retry on, a node waits a random time of up
	// to conflictBackoff times the retries so far (at most 8 of them),
	// which bounds the work wasted on a hot channel. It does not make the
	// race fair: a node that won learns the next sequence from its own
	// acknowledgement and can publish again at once, a loser has to read
	// it first, so nodes publishing back to back on one channel can starve
	// one another until the bound (measured in docs/CLUSTER.md).
	maxConflicts    = 64
	conflictBackoff = 100 * time.Microsecond
	// maxAtomicBatch is the NATS server's default max_batch_size: a larger
	// request is published message by message.
	maxAtomicBatch = 1000
)

// JetStream API error codes Publish tells apart.
const (
	errCodeWrongLastSeq         = 10071
	errCodeWrongLastSeqConstant = 10164 // the same, on replicated streams
	errCodeMsgTooLarge          = 10054
	errCodeBatchDuplicate       = 10201 // a batch holds an id stored already
)

// Publish stores pubs in the stream, in order for each channel, and returns
// nil only once JetStream acknowledged every one of them (stored on the
// stream's replicas), or reported it a duplicate of an ID it stored within
// the duplicates window. Each publication gets its channel's next seq,
// carried in SeqHeader and checked by JetStream against the channel's last
// message (jetstream_seq.go); when another node published on the channel
// meanwhile, Publish reads the channel's new last message and tries again
// (up to 64 times, with a random backoff, within publish_timeout).
//
// One publication costs one JetStream round trip when this node knows the
// channel's last message (it delivered or published it), one more
// otherwise. A request of several publications with some channel more than
// once is one atomic batch (one round trip; all stored or none) when the
// stream allows it and it is at most 1000 long. Otherwise, and when the
// batch is refused for a reason that the message-by-message way handles (an
// ID stored already, too many batches in flight), channels are published in
// parallel, each channel's publications one after the other (useAtomic
// says why).
//
// What an error means:
//   - index.ErrInvalidChannel, ErrInvalidID or ErrTooLarge (data over the
//     server's max_payload minus 512 bytes of headers), wrapped: nothing
//     was published. The publish API answers 400, 400, 413.
//   - ErrTooLarge from JetStream (over the stream's max_msg_size): as
//     below, except that the publication named was not stored.
//   - ErrUnavailable, wrapped: not connected (nothing published), no
//     acknowledgement within publish_timeout or ctx, the connection lost,
//     JetStream not answering, or too many conflicts. Of an atomic batch,
//     either all or nothing may be stored. Message by message, for each
//     channel a prefix of its publications (in order) may be stored, the
//     last of them possibly without an acknowledgement. Publications with
//     an ID are stored once however often the request is retried within
//     the duplicates window.
//
// Publish may be called from any goroutine. This node's requests touching a
// channel run one at a time (a per-channel lock, taken in channel order);
// other nodes' are ordered by JetStream. It blocks for at most
// publish_timeout, and not past ctx or Close.
func (s *Stream) Publish(ctx context.Context, pubs []Pub) error {
	if len(pubs) == 0 {
		return nil
	}
	maxData := s.nc.MaxPayload() - headerRoom
	for i := range pubs {
		p := &pubs[i]
		if !index.ValidChannel(p.Channel) {
			return fmt.Errorf("publication %d: channel %q: %w", i, p.Channel, index.ErrInvalidChannel)
		}
		if !validID(p.ID) {
			return fmt.Errorf("publication %d: %w", i, ErrInvalidID)
		}
		if n := int64(len(p.Data)); n > maxData {
			return fmt.Errorf("publication %d: data is %d bytes, at most %d fit the NATS server's max_payload: %w",
				i, n, maxData, ErrTooLarge)
		}
	}
	if err := s.unavailable(); err != nil {
		return err
	}
	ctx, cancel := s.requestContext(ctx)
	defer cancel()

	chans := make([]string, 0, 4)
	for i := range pubs {
		chans = append(chans, pubs[i].Channel)
	}
	slices.Sort(chans)
	chans = slices.Compact(chans)
	for _, ch := range chans { // in order: two requests never wait on each other
		e := s.seqs.entry(ch)
		e.pub.Lock()
		defer e.pub.Unlock()
	}
	if s.useAtomic(len(pubs), len(chans)) {
		err := s.publishAtomic(ctx, pubs, chans)
		if !errors.Is(err, errNotAtomic) {
			return err
		}
		s.log.Debug("atomic batch refused; publishing message by message", "err", err)
	}
	return s.publishEach(ctx, pubs, chans)
}

// batchPolicy says when Publish uses an atomic batch.
type batchPolicy int

const (
	batchNever   batchPolicy = iota // the stream does not allow atomic batches
	batchRepeats                    // when a channel has several publications in the request
	batchAlways                     // for every request of several (benchmarks)
)

// useAtomic reports whether a request of n publications on chans distinct
// channels is published as one atomic batch. Message by message, the
// publications of one channel cost one round trip each, one after the
// other, and those of different channels go in parallel; a batch is one
// round trip, but the NATS server stages it before committing (in a file
// store of its own for an R1 file stream: about 7 ms per batch of 100 on
// the development machine), so it pays only for repeated channels.
func (s *Stream) useAtomic(n, chans int) bool {
	switch {
	case n < 2 || n > maxAtomicBatch:
		return false
	case s.batch == batchAlways:
		return true
	default:
		return s.batch == batchRepeats && chans < n
	}
}

// validID reports whether id may be a Nats-Msg-Id.
func validID(id string) bool {
	if len(id) > maxIDBytes || strings.TrimSpace(id) != id {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] == 0x7f {
			return false
		}
	}
	return true
}

// errNotAtomic: the batch was refused as a whole, nothing of it stored, for
// a reason the message-by-message way handles.
var errNotAtomic = errors.New("cluster: atomic batch refused")

// publishEach publishes channel by channel, the channels in parallel.
func (s *Stream) publishEach(ctx context.Context, pubs []Pub, chans []string) error {
	if len(chans) == 1 {
		return s.publishChain(ctx, chans[0], pubs, nil)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for _, ch := range chans {
		idx := make([]int, 0, 4)
		for i := range pubs {
			if pubs[i].Channel == ch {
				idx = append(idx, i)
			}
		}
		wg.Go(func() {
			if err := s.publishChain(ctx, ch, pubs, idx); err != nil {
				once.Do(func() {
					first = err
					cancel() // the other channels stop too: less is stored
				})
			}
		})
	}
	wg.Wait()
	return first
}

// publishChain publishes the publications idx of pubs (all of them when
// idx is nil), all on channel ch, one after the other.
func (s *Stream) publishChain(ctx context.Context, ch string, pubs []Pub, idx []int) error {
	cur, err := s.lastFor(ctx, ch)
	if err != nil {
		return err
	}
	n := len(idx)
	if idx == nil {
		n = len(pubs)
	}
	for k := range n {
		i := k
		if idx != nil {
			i = idx[k]
		}
		for attempt := 0; ; attempt++ {
			if cur.stale {
				if cur, err = s.readLast(ctx, ch, 0, cur.last); err != nil {
					return err
				}
			}
			seq, err := s.nextSeq(ctx, cur)
			if err != nil {
				return err
			}
			ack, err := s.request(ctx, s.pubMsg(&pubs[i], seq, cur.last.sseq, true))
			if err == nil && ack.Error != nil {
				err = ack.Error
			}
			var ae *apiError
			switch {
			case errors.As(err, &ae) && ae.conflict() && attempt < maxConflicts:
				if err := s.conflicted(ctx, attempt); err != nil {
					return fmt.Errorf("publication %d: %w", i, classify(err))
				}
				if cur, err = s.readLast(ctx, ch, ae.actualLast(), cur.last); err != nil {
					return err
				}
				continue
			case err != nil:
				return fmt.Errorf("publication %d: %w", i, classify(err))
			case ack.Duplicate:
				// Stored before: the channel's last is not what we sent.
				cur.stale = true
			default:
				k := known{sseq: ack.Seq, seq: seq}
				s.seqs.setAcked(ch, k)
				cur = chainState{last: k}
			}
			s.out.Add(1)
			break
		}
	}
	return nil
}

// publishAtomic publishes pubs as one atomic batch (all stored or none).
// chans are the distinct channels of pubs.
func (s *Stream) publishAtomic(ctx context.Context, pubs []Pub, chans []string) error {
	cur := make(map[string]chainState, len(chans))
	for _, ch := range chans {
		c, err := s.lastFor(ctx, ch)
		if err != nil {
			return err
		}
		cur[ch] = c
	}
	seqs := make([]uint64, len(pubs))
	for attempt := 0; ; attempt++ {
		next := make(map[string]uint64, len(chans))
		for _, ch := range chans {
			seq, err := s.nextSeq(ctx, cur[ch])
			if err != nil {
				return err
			}
			next[ch] = seq
		}
		id := nuid.Next()
		var ack *pubAck
		var err error
		started := make(map[string]bool, len(chans))
		for i := range pubs {
			p := &pubs[i]
			seqs[i] = next[p.Channel]
			next[p.Channel]++
			// Only a channel's first message in a batch may carry the
			// expected sequence; the batch is stored without interleaving.
			m := s.pubMsg(p, seqs[i], cur[p.Channel].last.sseq, !started[p.Channel])
			started[p.Channel] = true
			m.Header[batchIDHeader] = []string{id}
			m.Header[batchSeqHeader] = []string{strconv.Itoa(i + 1)}
			if i < len(pubs)-1 {
				if err = s.nc.PublishMsg(m); err != nil {
					return fmt.Errorf("%w: cannot publish: %w (nothing was stored)", ErrUnavailable, err)
				}
				continue
			}
			m.Header[batchCommitHeader] = []string{"1"}
			if ack, err = s.request(ctx, m); err == nil && ack.Error != nil {
				err = ack.Error
			}
		}
		var ae *apiError
		switch {
		case errors.As(err, &ae) && ae.conflict() && attempt < maxConflicts:
			if err := s.conflicted(ctx, attempt); err != nil {
				return fmt.Errorf("atomic batch of %d: %w", len(pubs), classify(err))
			}
			// Which channel conflicted is not said: read each again,
			// unless this node delivered a newer message meanwhile.
			for _, ch := range chans {
				c := cur[ch]
				if d := s.seqs.last(ch); d.sseq > c.last.sseq {
					cur[ch] = chainState{last: d}
					continue
				}
				hint := uint64(0)
				if len(chans) == 1 {
					hint = ae.actualLast()
				}
				if cur[ch], err = s.readLast(ctx, ch, hint, c.last); err != nil {
					return err
				}
			}
			continue
		case errors.As(err, &ae) && ae.batchRefused():
			return fmt.Errorf("%w: %w", errNotAtomic, err)
		case err != nil:
			return fmt.Errorf("atomic batch of %d: %w", len(pubs), classify(err))
		case ack.Count != len(pubs) || ack.Seq < uint64(len(pubs)):
			return fmt.Errorf("%w: atomic batch of %d acknowledged as %d", ErrUnavailable, len(pubs), ack.Count)
		}
		// The batch is stored at consecutive stream sequences ending at
		// ack.Seq.
		base := ack.Seq - uint64(len(pubs)) + 1
		for i := len(pubs) - 1; i >= 0; i-- {
			s.seqs.setAcked(pubs[i].Channel, known{sseq: base + uint64(i), seq: seqs[i]})
		}
		s.out.Add(uint64(len(pubs)))
		return nil
	}
}

// conflicted counts conflict number attempt+1 and waits before its retry
// (see conflictBackoff), or returns ctx's error.
func (s *Stream) conflicted(ctx context.Context, attempt int) error {
	s.conflicts.Add(1)
	if attempt == 0 {
		return ctx.Err()
	}
	d := time.Duration(rand.Int64N(int64(min(attempt, 8)) * int64(conflictBackoff)))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Batch and expected-sequence headers.
const (
	batchIDHeader     = "Nats-Batch-Id"
	batchSeqHeader    = "Nats-Batch-Sequence"
	batchCommitHeader = "Nats-Batch-Commit"
	expectedHeader    = "Nats-Expected-Last-Subject-Sequence"
	msgIDHeader       = "Nats-Msg-Id"
)
