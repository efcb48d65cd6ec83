package cluster

// Bridge's concurrency. Connected and Status read state that nats.go's
// connection handlers keep, so a health check never waits on nats.go's
// connection lock (nats.go holds it while it dials during an outage).
// Interest only records the change; the subscriber goroutine sends the SUBs
// and UNSUBs in order.
//
// Deliver is called from the bridge's goroutines: one dispatcher, which
// reads the messages of all subscriptions in the order the connection
// received them, and GOMAXPROCS workers. A channel is always delivered by
// the same worker, so calls for one channel never overlap and come in NATS
// order for the subject. NATS keeps the order of each publisher's messages on
// a subject; a subject is one channel, and the caller numbers the channel's
// publications (seq) in the order Deliver hands them over. The goroutine
// count, 2 + GOMAXPROCS, does not grow with the number of channels or
// subscriptions.
//
// Lock order. Bridge.mu is a leaf for callers: it is held only for map,
// slice and counter work, never while calling Deliver or a nats.go method
// that can wait, so Interest may be called under the caller's own locks (a
// client's mutex), and Deliver may take the caller's locks and call
// Interest. Under Bridge.mu the bridge only reads nats.go subscription
// counters (Subscription.Dropped, which takes that subscription's lock).
// nats.go never calls into this package while holding its own locks: its
// handlers run on its callback goroutine, and messages reach the inbox
// through a non-blocking channel send.
//
//	caller's locks (client.mu, ...) -> Bridge.mu -> nats.go Subscription.mu

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// workerQueue is each delivery worker's queue length, in messages.
const workerQueue = 256

// Deliver is called once for every publication that arrives from NATS on a
// channel this node has interest in (in "all" mode: on every channel).
// channel is the subject minus the prefix, a valid concrete channel; data is
// the message body, valid UTF-8 JSON with surrounding white space trimmed.
// data is only valid during the call: the callee copies what it keeps.
//
// Calls for one channel come from one goroutine, one at a time, in the order
// NATS delivered them; calls for different channels may run in parallel on
// up to GOMAXPROCS goroutines. Deliver must not call Bridge.Close.
type Deliver func(channel string, data []byte)

// Bridge connects one wsfan node to NATS. Create it with Connect. All its
// methods are safe for concurrent use.
type Bridge struct {
	conn    // the connection, its state and handlers (conn.go)
	prefix  string
	all     bool // interest "all": one subscription to prefix + ">"
	deliver Deliver

	// inbox receives every message of every subscription, in the order the
	// connection read them (nats.go's ChanSubscribe; a full inbox makes
	// nats.go drop the message and count it on its subscription).
	inbox    chan *nats.Msg
	workers  []chan *nats.Msg
	opsReady chan struct{} // wakes the subscriber goroutine
	stop     chan struct{} // closed by Close: the goroutines finish and exit
	wg       sync.WaitGroup
	once     sync.Once

	// mu guards the fields below it. It is held only for map, slice and
	// counter work: never across a call into nats.go that can wait (Lost
	// reads subscription counters under it) and never while Deliver runs.
	mu          sync.RWMutex
	table       *subTable          // per-channel mode
	ops         []subOp            // changes for the subscriber goroutine, in order
	opsStopped  bool               // the subscriber goroutine has exited
	allSub      *nats.Subscription // "all" mode
	interest    int                // "all" mode: local subscriptions counted
	lostRetired uint64             // slow-consumer drops of removed subscriptions

	in, out    atomic.Uint64 // publications delivered / published
	drops      dropCounter   // invalid subject or body
	duplicates atomic.Uint64 // copies suppressed because of overlapping subscriptions
	slowLog    logLimiter
	gaps       atomic.Uint64 // events after which publications may be missing (Gaps)
	lostMax    atomic.Uint64 // the highest Lost returned
}

// Connect validates cfg (zero fields take their defaults), connects to NATS
// and, in "all" mode, subscribes to prefix + ">". It fails when no server in
// cfg.URLs can be reached now; once connected the bridge reconnects by
// itself, forever by default. log may be nil.
//
// The connection keeps NATS echo on: a publication this node makes comes back
// to it from NATS and is delivered like any other.
func Connect(cfg Config, deliver Deliver, log *slog.Logger) (*Bridge, error) {
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !cfg.Enabled() {
		return nil, errors.New("cluster: nats.urls is empty")
	}
	if deliver == nil {
		return nil, errors.New("cluster: nil Deliver")
	}
	if log == nil {
		log = slog.Default()
	}
	b := &Bridge{
		conn:     conn{cfg: cfg, log: log.With("component", "nats")},
		prefix:   cfg.SubjectPrefix,
		all:      cfg.Interest == InterestAll,
		deliver:  deliver,
		inbox:    make(chan *nats.Msg, cfg.PendingLimit),
		workers:  make([]chan *nats.Msg, max(1, runtime.GOMAXPROCS(0))),
		opsReady: make(chan struct{}, 1),
		stop:     make(chan struct{}),
		table:    newSubTable(),
	}
	for i := range b.workers {
		b.workers[i] = make(chan *nats.Msg, workerQueue)
	}
	err := b.dial(connHooks{
		disconnected: func(reason string) {
			b.gaps.Add(1) // before the state: Connected() false implies the gap is counted
			b.log.Warn("NATS disconnected; publishing answers 503 and NATS deliveries stop until it reconnects",
				"err", reason)
		},
		reconnected: func() {
			b.log.Info("NATS reconnected; subscriptions restored", "url", b.nc.ConnectedUrlRedacted(),
				"subscriptions", b.nc.NumSubscriptions())
		},
		slowConsumer: func(sub *nats.Subscription) {
			b.gaps.Add(1) // once per episode: nats.go calls this when the drops begin
			if b.slowLog.Limit() {
				b.log.Warn("NATS messages lost: delivery is pending_limit messages behind",
					"subject", subjectOf(sub), "pending_limit", b.cfg.PendingLimit, "lost_total", b.Lost())
			}
		},
	})
	if err != nil {
		return nil, err
	}
	nc := b.nc
	b.start()
	if b.all {
		sub, err := nc.ChanSubscribe(b.prefix+">", b.inbox)
		if err == nil {
			err = nc.FlushTimeout(cfg.PublishTimeout) // the server has the SUB
		}
		if err != nil {
			b.Close()
			return nil, fmt.Errorf("cannot subscribe to %s>: %w", b.prefix, err)
		}
		b.mu.Lock()
		b.allSub = sub
		b.mu.Unlock()
	}
	r := cfg.Redacted()
	b.log.Info("connected to NATS", "url", nc.ConnectedUrlRedacted(), "server", nc.ConnectedServerName(),
		"urls", r.URLs, "subject_prefix", cfg.SubjectPrefix, "interest", cfg.Interest, "name", cfg.Name,
		"publish_timeout", cfg.PublishTimeout, "reconnect_wait", cfg.ReconnectWait,
		"max_reconnects", cfg.MaxReconnects, "pending_limit", cfg.PendingLimit, "workers", len(b.workers))
	return b, nil
}

// Status describes the connection for health checks and logs:
// "connected to nats://...", "reconnecting: <last error>", "draining" or
// "closed". URLs are shown without passwords. It never blocks.
func (b *Bridge) Status() string {
	return b.connStatus()
}

// Subscriptions returns the number of NATS subscriptions held now,
// zombies included (see subTable).
func (b *Bridge) Subscriptions() int {
	return b.nc.NumSubscriptions()
}

// Stats returns the publications received from NATS and handed to Deliver,
// and the publications published to NATS and confirmed by Publish.
func (b *Bridge) Stats() (in, out uint64) {
	return b.in.Load(), b.out.Load()
}

// Dropped returns the messages received from NATS and discarded because
// their subject minus the prefix is not a valid wsfan channel, or their body
// is not valid UTF-8 JSON.
func (b *Bridge) Dropped() uint64 {
	return b.drops.n.Load()
}

// Lost returns the messages NATS received for this node but dropped because
// pending_limit messages were already waiting for delivery (a slow
// consumer). Each is a publication that some local subscribers miss (or, with
// overlapping subscriptions, a copy of one). It never decreases.
func (b *Bridge) Lost() uint64 {
	b.mu.RLock()
	defer b.mu.RUnlock()
	n := b.lostRetired
	count := func(s *nats.Subscription) {
		if s == nil {
			return
		}
		if d, err := s.Dropped(); err == nil {
			n += uint64(d)
		}
	}
	count(b.allSub)
	for _, e := range b.table.byKey {
		count(e.ns)
	}
	// Closed subscriptions report nothing: keep the highest total seen.
	for {
		seen := b.lostMax.Load()
		if n <= seen {
			return seen
		}
		if b.lostMax.CompareAndSwap(seen, n) {
			return n
		}
	}
}

// Gaps counts the events after which this node may have missed
// publications: each loss of the NATS connection (publications made
// elsewhere while it reconnects never reach it) and each slow-consumer
// episode (see Lost). Deliveries do not number publications, so a missed one
// leaves no hole in the caller's seq by itself; a caller that wants clients
// to see the hole compares Gaps with the value it saw at a channel's previous
// delivery and, when it changed, skips a seq (and treats the channel's
// history as broken). The count is raised on nats.go's callback goroutine
// right after the event, before Connected turns false; in a rare race the
// first deliveries after a fast reconnect can precede it.
func (b *Bridge) Gaps() uint64 {
	return b.gaps.Load()
}

// Flush waits until the NATS server has processed every subscription change
// (Interest) and publication this bridge made before the call, or timeout
// passes. Tests use it to know that an Interest has reached the server.
func (b *Bridge) Flush(timeout time.Duration) error {
	if !b.Connected() {
		return fmt.Errorf("%w: %s", ErrUnavailable, b.Status())
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	done := make(chan struct{})
	b.mu.Lock()
	b.queueLocked(subOp{done: done})
	b.mu.Unlock()
	select {
	case <-done:
	case <-t.C:
		return fmt.Errorf("%w: subscription changes not sent within %v", ErrUnavailable, timeout)
	}
	if err := b.nc.FlushTimeout(timeout); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return nil
}

// Close unsubscribes from NATS, delivers the messages already received,
// closes the connection and stops the bridge's goroutines; Deliver is not
// called once it returns. It waits up to 5 s for NATS to drain. It may be
// called more than once; it always returns nil.
func (b *Bridge) Close() error {
	b.once.Do(func() {
		b.shutdown()
		close(b.stop)
		b.wg.Wait()
	})
	return nil
}

// subjectOf is sub's subject, or "" for nil.
func subjectOf(sub *nats.Subscription) string {
	if sub == nil {
		return ""
	}
	return sub.Subject
}
