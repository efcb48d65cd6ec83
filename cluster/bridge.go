package cluster

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

const (
	// pingInterval and maxPingsOut bound how long a silently dead NATS
	// server (no FIN, no RST) goes unnoticed: about 3 × 10 s, against
	// nats.go's default of 2 × 2 min.
	pingInterval = 10 * time.Second
	maxPingsOut  = 3
	// closeTimeout bounds how long Close waits for NATS to drain.
	closeTimeout = 5 * time.Second
	// workerQueue is each delivery worker's queue length, in messages.
	workerQueue = 256
	// dropLogInterval is the least time between two log lines about dropped
	// (or lost) messages; the count in between is logged with the next one.
	dropLogInterval = 10 * time.Second
)

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
	cfg     Config
	prefix  string
	all     bool // interest "all": one subscription to prefix + ">"
	deliver Deliver
	log     *slog.Logger
	nc      *nats.Conn

	// inbox receives every message of every subscription, in the order the
	// connection read them (nats.go's ChanSubscribe; a full inbox makes
	// nats.go drop the message and count it on its subscription).
	inbox     chan *nats.Msg
	workers   []chan *nats.Msg
	opsReady  chan struct{} // wakes the subscriber goroutine
	stop      chan struct{} // closed by Close: the goroutines finish and exit
	wg        sync.WaitGroup
	closed    chan struct{} // closed by nats.go's ClosedHandler
	connected chan struct{} // closed by nats.go's ConnectHandler
	once      sync.Once

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

	// state, url and lastErr are kept by nats.go's connection handlers, so
	// that Connected and Status never wait on nats.go's connection lock.
	state   atomic.Int32           // a state* constant
	url     atomic.Pointer[string] // the server connected to, redacted
	lastErr atomic.Pointer[string] // the last disconnect reason

	in, out    atomic.Uint64 // publications delivered / published
	dropped    atomic.Uint64 // invalid subject or body
	duplicates atomic.Uint64 // copies suppressed because of overlapping subscriptions
	dropSince  atomic.Uint64 // drops since the last drop log line
	dropLog    logLimiter
	slowLog    logLimiter
	gaps       atomic.Uint64 // events after which publications may be missing (Gaps)
	closing    atomic.Bool   // Close has begun
	lostMax    atomic.Uint64 // the highest Lost returned
}

// Connection states (Bridge.state).
const (
	stateConnected int32 = iota + 1
	stateReconnecting
	stateDraining
	stateClosed
)

// logLimiter lets one log line through per dropLogInterval.
type logLimiter struct{ last atomic.Int64 }

// Limit reports whether a line may be logged now, and if so starts a new
// interval.
func (l *logLimiter) Limit() bool {
	now := time.Now().UnixNano()
	last := l.last.Load()
	return now-last >= int64(dropLogInterval) && l.last.CompareAndSwap(last, now)
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
		cfg:       cfg,
		prefix:    cfg.SubjectPrefix,
		all:       cfg.Interest == InterestAll,
		deliver:   deliver,
		log:       log.With("component", "nats"),
		inbox:     make(chan *nats.Msg, cfg.PendingLimit),
		workers:   make([]chan *nats.Msg, max(1, runtime.GOMAXPROCS(0))),
		opsReady:  make(chan struct{}, 1),
		connected: make(chan struct{}),
		stop:      make(chan struct{}),
		closed:    make(chan struct{}),
		table:     newSubTable(),
	}
	for i := range b.workers {
		b.workers[i] = make(chan *nats.Msg, workerQueue)
	}

	nc, err := nats.Connect(strings.Join(cfg.URLs, ","), b.options()...)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to NATS %s: %w", strings.Join(cfg.Redacted().URLs, ","), err)
	}
	b.nc = nc
	select {
	case <-b.connected: // the ConnectHandler has set the state
	case <-time.After(closeTimeout):
		nc.Close()
		return nil, errors.New("cluster: nats.go did not report the connection")
	}
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

// options turns the configuration into nats.go options.
func (b *Bridge) options() []nats.Option {
	c := &b.cfg
	opts := []nats.Option{
		nats.Name(c.Name),
		nats.MaxReconnects(c.MaxReconnects),
		nats.ReconnectWait(c.ReconnectWait),
		nats.ReconnectJitter(c.ReconnectWait/2, c.ReconnectWait/2),
		// No buffering while disconnected: a publish during an outage
		// fails (503) instead of waiting in memory to be sent, or lost,
		// later.
		nats.ReconnectBufSize(-1),
		nats.PingInterval(pingInterval),
		nats.MaxPingsOutstanding(maxPingsOut),
		nats.DrainTimeout(closeTimeout),
		nats.ConnectHandler(func(nc *nats.Conn) {
			b.setConnected(nc)
			close(b.connected)
		}),
		// The handlers avoid nats.go calls that take the connection lock:
		// nats.go holds it while it dials, and Connected must turn false
		// as soon as the connection is lost.
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			msg := "connection lost"
			if err != nil {
				msg = err.Error()
			}
			b.lastErr.Store(&msg)
			if b.closing.Load() {
				return // the closed handler follows
			}
			// When nats.go gives up (max_reconnects) the closed handler
			// follows and sets stateClosed.
			b.gaps.Add(1) // before the state: Connected() false implies the gap is counted
			b.state.Store(stateReconnecting)
			b.log.Warn("NATS disconnected; publishing answers 503 and NATS deliveries stop until it reconnects",
				"err", msg)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			b.setConnected(nc)
			b.log.Info("NATS reconnected; subscriptions restored", "url", nc.ConnectedUrlRedacted(),
				"subscriptions", nc.NumSubscriptions())
		}),
		nats.ClosedHandler(func(nc *nats.Conn) {
			b.state.Store(stateClosed)
			if b.closing.Load() {
				b.log.Info("NATS connection closed")
			} else {
				// Not asked for: reconnects exhausted, or a fatal error
				// such as an authorization failure.
				b.log.Error("NATS connection closed; publishing answers 503 from now on", "err", nc.LastError())
			}
			close(b.closed)
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			if errors.Is(err, nats.ErrSlowConsumer) {
				b.gaps.Add(1) // once per episode: nats.go calls this when the drops begin
				if b.slowLog.Limit() {
					b.log.Warn("NATS messages lost: delivery is pending_limit messages behind",
						"subject", subject, "pending_limit", b.cfg.PendingLimit, "lost_total", b.Lost())
				}
				return
			}
			b.log.Error("NATS error", "subject", subject, "err", err)
		}),
		nats.DiscoveredServersHandler(func(nc *nats.Conn) {
			b.log.Info("NATS servers discovered", "servers", nc.DiscoveredServers())
		}),
	}
	switch {
	case c.CredsFile != "":
		opts = append(opts, nats.UserCredentials(c.CredsFile))
	case c.Token != "":
		opts = append(opts, nats.Token(c.Token))
	case c.User != "":
		opts = append(opts, nats.UserInfo(c.User, c.Password))
	}
	if c.TLSCAFile != "" {
		opts = append(opts, nats.RootCAs(c.TLSCAFile))
	}
	if c.TLSCertFile != "" {
		opts = append(opts, nats.ClientCert(c.TLSCertFile, c.TLSKeyFile))
	}
	return opts
}

// setConnected records a connection or reconnection. Like every handler it
// runs on nats.go's callback goroutine, in the order of the events.
func (b *Bridge) setConnected(nc *nats.Conn) {
	u := nc.ConnectedUrlRedacted()
	b.url.Store(&u)
	if !b.closing.Load() {
		b.state.Store(stateConnected)
	}
}

// Connected reports whether the bridge is connected to a NATS server. It
// reads state kept by nats.go's connection handlers, which run on nats.go's
// callback goroutine just after each change, and never blocks.
func (b *Bridge) Connected() bool {
	return b.state.Load() == stateConnected
}

// Status describes the connection for health checks and logs:
// "connected to nats://...", "reconnecting: <last error>", "draining" or
// "closed". URLs are shown without passwords. It never blocks.
func (b *Bridge) Status() string {
	switch b.state.Load() {
	case stateConnected:
		return "connected to " + *b.url.Load()
	case stateReconnecting:
		s := "reconnecting"
		if e := b.lastErr.Load(); e != nil {
			s += ": " + *e
		}
		return s
	case stateDraining:
		return "draining"
	default:
		return "closed"
	}
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
	return b.dropped.Load()
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
		b.closing.Store(true)
		b.state.Store(stateDraining)
		if err := b.nc.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			b.nc.Close() // reconnecting: nothing to drain
		}
		select {
		case <-b.closed:
		case <-time.After(closeTimeout + time.Second):
			b.nc.Close()
		}
		close(b.stop)
		b.wg.Wait()
	})
	return nil
}
