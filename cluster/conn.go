package cluster

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
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
	// dropLogInterval is the least time between two log lines about dropped
	// (or lost) messages; the count in between is logged with the next one.
	dropLogInterval = 10 * time.Second
)

// Connection states (conn.state).
const (
	stateConnected int32 = iota + 1
	stateReconnecting
	stateDraining
	stateClosed
)

// conn is the NATS connection that Bridge and Stream embed: the nats.go
// options built from Config, and the connection state that nats.go's
// handlers keep, so that Connected and Status never wait on nats.go's
// connection lock (nats.go holds it while it dials during an outage).
//
// The handlers run on nats.go's callback goroutine, one at a time, in the
// order of the events; they call the embedding type's connHooks there.
type conn struct {
	cfg   Config
	log   *slog.Logger
	nc    *nats.Conn
	hooks connHooks

	closed    chan struct{} // closed by nats.go's ClosedHandler
	connected chan struct{} // closed by nats.go's ConnectHandler

	// state, url and lastErr are kept by nats.go's connection handlers.
	state   atomic.Int32           // a state* constant
	url     atomic.Pointer[string] // the server connected to, redacted
	lastErr atomic.Pointer[string] // the last disconnect reason
	closing atomic.Bool            // close has begun
}

// connHooks are the embedding type's reactions to connection events; each
// may be nil. They run on nats.go's callback goroutine and must not block.
type connHooks struct {
	// disconnected runs when the connection is lost, before Connected turns
	// false (so that whatever it counts is counted by then). Not called
	// for the loss that Close causes.
	disconnected func(reason string)
	// reconnected runs once the connection is back and nats.go has re-sent
	// the subscriptions, after Connected turned true.
	reconnected func()
	// slowConsumer runs when nats.go starts dropping messages of sub
	// because its pending limit is reached (once per episode).
	slowConsumer func(sub *nats.Subscription)
}

// dial connects with the options built from c.cfg (validated by the
// caller), hooks installed, and waits for the ConnectHandler to have set
// the state.
func (c *conn) dial(hooks connHooks) error {
	c.hooks = hooks
	c.connected = make(chan struct{})
	c.closed = make(chan struct{})
	nc, err := nats.Connect(strings.Join(c.cfg.URLs, ","), c.options()...)
	if err != nil {
		return fmt.Errorf("cannot connect to NATS %s: %w", strings.Join(c.cfg.Redacted().URLs, ","), err)
	}
	c.nc = nc
	select {
	case <-c.connected: // the ConnectHandler has set the state
		return nil
	case <-time.After(closeTimeout):
		nc.Close()
		return errors.New("cluster: nats.go did not report the connection")
	}
}

// options turns the configuration into nats.go options.
func (c *conn) options() []nats.Option {
	cfg := &c.cfg
	opts := []nats.Option{
		nats.Name(cfg.Name),
		nats.MaxReconnects(cfg.MaxReconnects),
		nats.ReconnectWait(cfg.ReconnectWait),
		nats.ReconnectJitter(cfg.ReconnectWait/2, cfg.ReconnectWait/2),
		// No buffering while disconnected: a publish during an outage
		// fails (503) instead of waiting in memory to be sent, or lost,
		// later.
		nats.ReconnectBufSize(-1),
		nats.PingInterval(pingInterval),
		nats.MaxPingsOutstanding(maxPingsOut),
		nats.DrainTimeout(closeTimeout),
		nats.ConnectHandler(func(nc *nats.Conn) {
			c.setConnected(nc)
			close(c.connected)
		}),
		// The handlers avoid nats.go calls that take the connection lock:
		// nats.go holds it while it dials, and Connected must turn false
		// as soon as the connection is lost.
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			msg := "connection lost"
			if err != nil {
				msg = err.Error()
			}
			c.lastErr.Store(&msg)
			if c.closing.Load() {
				return // the closed handler follows
			}
			// When nats.go gives up (max_reconnects) the closed handler
			// follows and sets stateClosed.
			if c.hooks.disconnected != nil {
				c.hooks.disconnected(msg)
			}
			c.state.Store(stateReconnecting)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			c.setConnected(nc)
			if c.hooks.reconnected != nil {
				c.hooks.reconnected()
			}
		}),
		nats.ClosedHandler(func(nc *nats.Conn) {
			c.state.Store(stateClosed)
			if c.closing.Load() {
				c.log.Info("NATS connection closed")
			} else {
				// Not asked for: reconnects exhausted, or a fatal error
				// such as an authorization failure.
				c.log.Error("NATS connection closed; publishing answers 503 from now on", "err", nc.LastError())
			}
			close(c.closed)
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrSlowConsumer) && c.hooks.slowConsumer != nil {
				c.hooks.slowConsumer(sub)
				return
			}
			c.log.Error("NATS error", "subject", subjectOf(sub), "err", err)
		}),
		nats.DiscoveredServersHandler(func(nc *nats.Conn) {
			c.log.Info("NATS servers discovered", "servers", nc.DiscoveredServers())
		}),
	}
	switch {
	case cfg.CredsFile != "":
		opts = append(opts, nats.UserCredentials(cfg.CredsFile))
	case cfg.Token != "":
		opts = append(opts, nats.Token(cfg.Token))
	case cfg.User != "":
		opts = append(opts, nats.UserInfo(cfg.User, cfg.Password))
	}
	if cfg.TLSCAFile != "" {
		opts = append(opts, nats.RootCAs(cfg.TLSCAFile))
	}
	if cfg.TLSCertFile != "" {
		opts = append(opts, nats.ClientCert(cfg.TLSCertFile, cfg.TLSKeyFile))
	}
	return opts
}

// setConnected records a connection or reconnection. Like every handler it
// runs on nats.go's callback goroutine, in the order of the events.
func (c *conn) setConnected(nc *nats.Conn) {
	u := nc.ConnectedUrlRedacted()
	c.url.Store(&u)
	if !c.closing.Load() {
		c.state.Store(stateConnected)
	}
}

// Connected reports whether the connection to a NATS server is up. It
// reads state kept by nats.go's connection handlers, which run on nats.go's
// callback goroutine just after each change, and never blocks.
func (c *conn) Connected() bool {
	return c.state.Load() == stateConnected
}

// connStatus describes the connection: "connected to nats://...",
// "reconnecting: <last error>", "draining" or "closed", URLs without
// passwords. It never blocks.
func (c *conn) connStatus() string {
	switch c.state.Load() {
	case stateConnected:
		return "connected to " + *c.url.Load()
	case stateReconnecting:
		s := "reconnecting"
		if e := c.lastErr.Load(); e != nil {
			s += ": " + *e
		}
		return s
	case stateDraining:
		return "draining"
	default:
		return "closed"
	}
}

// unavailable returns ErrUnavailable wrapped with the connection's status,
// or nil when it is connected.
func (c *conn) unavailable() error {
	if c.Connected() {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrUnavailable, c.connStatus())
}

// shutdown drains the connection (or closes it when there is nothing to
// drain) and waits up to closeTimeout plus a second for nats.go to close it.
// The caller stops its own goroutines afterwards.
func (c *conn) shutdown() {
	c.closing.Store(true)
	c.state.Store(stateDraining)
	if err := c.nc.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		c.nc.Close() // reconnecting: nothing to drain
	}
	select {
	case <-c.closed:
	case <-time.After(closeTimeout + time.Second):
		c.nc.Close()
	}
}

// logLimiter lets one log line through per dropLogInterval.
type logLimiter struct{ last atomic.Int64 }

// Limit reports whether a line may be logged now, and if so starts a new
// interval.
func (l *logLimiter) Limit() bool {
	now := time.Now().UnixNano()
	last := l.last.Load()
	return now-last >= int64(dropLogInterval) && l.last.CompareAndSwap(last, now)
}
