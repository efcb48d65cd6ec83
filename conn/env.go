package conn

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/lesismal/llib/std/crypto/tls"
	"github.com/lesismal/nbio"
	"github.com/lesismal/nbio/nbhttp"

	"wsfan/auth"
	"wsfan/limits"
	"wsfan/ws"
)

// Handler is what an Env's connections report to. Its methods run on the
// connection's nbio executor, one at a time and in order.
type Handler interface {
	// Message is one whole data message (op ws.OpText or ws.OpBinary);
	// data is recycled when it returns.
	Message(c *Conn, op byte, data []byte)
	// Ping is a ping from the peer, with its payload.
	Ping(c *Conn, payload []byte)
	// Closed is called once, when the socket is gone, with the
	// subscriptions c held: they are the Handler's to leave.
	Closed(c *Conn, subs Subs)
}

// Config is what every connection of an Env obeys.
type Config struct {
	MaxPendingBytes int // the backlog past which a slow consumer is closed
	MaxMessageBytes int // the largest message a client may send (1009 past it)
	Commands        *limits.CommandLimiter
}

// Env is what the connections of one server share: their limits, their
// Handler, the writer goroutines and the connection metrics.
type Env struct {
	cfg     Config
	handler Handler
	writers []*writer
	m       *connMetrics
	inflate ws.Inflaters // for the connections that negotiated deflate
	parked  parked       // the jobs of held connections (hold.go)
	nextID  atomic.Uint64
	stop    chan struct{}
	wg      sync.WaitGroup
}

// NewEnv returns an Env with writers writer goroutines (one per core),
// registering its metrics in set. Start runs the writers.
func NewEnv(cfg Config, writers int, h Handler, set *metrics.Set) *Env {
	e := &Env{cfg: cfg, handler: h, m: newConnMetrics(set), stop: make(chan struct{})}
	e.writers = make([]*writer, max(1, writers))
	for i := range e.writers {
		e.writers[i] = newWriter()
	}
	return e
}

// Start runs the writer goroutines.
func (e *Env) Start() {
	for _, w := range e.writers {
		e.wg.Go(func() {
			w.run(e.stop)
		})
	}
}

// Stop hands what the writers hold to the sockets and stops them.
func (e *Env) Stop() {
	close(e.stop)
	e.wg.Wait()
}

// writerOf returns c's writer: each connection belongs to one, by id.
func (e *Env) writerOf(c *Conn) *writer {
	return e.writers[c.id%uint64(len(e.writers))]
}

// OnWritten is nbio's OnWrittenSize: it runs for every write to a socket,
// with nbio's lock of the connection held, and credits the bytes to the
// connection's backlog.
func (e *Env) OnWritten(nc *nbio.Conn, _ []byte, n int) {
	e.m.bytesOut.Add(n)
	if c, ok := nc.Session().(*Conn); ok {
		c.written.Add(int64(n))
		if c.closing.Load() {
			c.shutdownIfFlushedLocked()
		}
		if !c.busy() && c.deferred.CompareAndSwap(true, false) {
			c.kick()
		}
	}
}

// NewDetached returns a Conn that writes to w and has no socket: for
// benchmarks and tests of what lies above the socket. w's Write must take
// everything synchronously. deflate is as if negotiated.
func (e *Env) NewDetached(w net.Conn, deflate bool) *Conn {
	c := &Conn{env: e, id: e.nextID.Add(1), w: w}
	e.init(c, deflate)
	return c
}

// init readies c's reader and command limit; deflate: it negotiated
// permessage-deflate.
func (e *Env) init(c *Conn, deflate bool) {
	c.deflate = deflate
	var inf ws.Inflater
	if deflate {
		inf = &e.inflate
		e.m.deflateConns.Add(1)
	}
	c.rd.Init(e.cfg.MaxMessageBytes, inf)
	c.cmds.Init(e.cfg.Commands)
	c.touch()
}

// Upgrade takes the socket of an upgrade request over from nbhttp, makes a
// Conn its session and answers 101 with the accept value of key and, when
// not empty, the Sec-WebSocket-Extensions answer ext (ws.NegotiateDeflate's:
// the connection then gets and may send deflated messages). It returns
// nil when the connection cannot be taken over: it was upgraded already (a
// second request read from the same packet), is not one of nbio's, or
// negotiated TLS the backlog cannot count (then it is hung up).
func (e *Env) Upgrade(w http.ResponseWriter, key, ext string, ip netip.Addr, ident auth.Identity) *Conn {
	h, ok := w.(http.Hijacker)
	if !ok {
		return nil
	}
	hijacked, _, err := h.Hijack()
	if err != nil {
		return nil
	}
	hc, ok := hijacked.(*nbhttp.Conn)
	if !ok {
		return nil
	}
	var (
		nbc     *nbio.Conn
		tlsConn *tls.Conn
	)
	switch u := hc.Conn.(type) {
	case *nbio.Conn:
		nbc = u
	case *tls.Conn:
		tlsConn = u
		if nbc, ok = u.Conn().(*nbio.Conn); !ok {
			return nil
		}
	default:
		return nil
	}
	if _, ok := nbc.Session().(*nbhttp.Parser); !ok {
		return nil // already upgraded
	}
	c := &Conn{env: e, id: e.nextID.Add(1), nbc: nbc, w: nbc, ip: ip}
	c.setIdentity(ident)
	if tlsConn != nil {
		c.w, c.hc = tlsConn, hc
		if c.tlsOverhead = tlsRecordOverhead(tlsConn.ConnectionState()); c.tlsOverhead == 0 {
			// Not a suite TLSConfig offers: the backlog could not be
			// counted. Hang up; nbio's poller closes the socket.
			nbc.Lock()
			shutdownFD(nbc.Hash(), syscall.SHUT_RDWR)
			nbc.Unlock()
			return nil
		}
	}
	e.init(c, ext != "")

	// From here nbio hands this socket's bytes to c.Parse.
	nbc.SetSession(c)
	hc.Parser = nil
	_ = nbc.SetReadDeadline(time.Time{}) // the handshake timeout is over
	var b [256]byte
	c.wmu.Lock()
	c.write(ws.AppendResponse(b[:0], key, ext))
	c.wmu.Unlock()
	return c
}
