package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/lesismal/llib/std/crypto/tls"
	"github.com/lesismal/nbio/logging"
	"github.com/lesismal/nbio/nbhttp"

	"wsfan/cluster"
	"wsfan/codec"
	"wsfan/config"
	"wsfan/conn"
	"wsfan/hub"
	"wsfan/limits"
	"wsfan/ws"
)

func init() {
	logging.SetLevel(logging.LevelError)
	// /metrics declares each series' type (# HELP and # TYPE lines).
	metrics.ExposeMetadata(true)
}

const (
	// handshakeTimeout bounds how long a connection may take to send its
	// upgrade request.
	handshakeTimeout = 10 * time.Second
	// pollerReadBuffer is the read buffer each poller shares among its
	// connections.
	pollerReadBuffer = 64 << 10
)

// Server is one wsfan node. Create it with New, then Start; Shutdown drains
// it. Its methods are safe for concurrent use.
type Server struct {
	cfg   *config.Config
	log   *slog.Logger
	procs int

	set      *metrics.Set
	m        *serverMetrics
	hub      *hub.Hub
	env      *conn.Env
	reg      *registry
	bus      *cluster.Bridge // the NATS bridge in core-NATS cluster mode; nil otherwise
	stream   *cluster.Stream // the JetStream stream in JetStream cluster mode; nil otherwise
	settling settling        // the newest connections; see heartbeat.go

	engine  *nbhttp.Engine
	admin   *http.Server
	adminLn net.Listener
	tls     bool

	// Abuse limits of [limits]; fixed for the server's life.
	clientIP *limits.ClientIP
	perIP    *limits.PerIP
	connRate *limits.ConnRate
	origins  *limits.OriginChecker

	// adminLim bounds the internal listener's requests; fixed before Start.
	adminLim adminLimits

	draining atomic.Bool
	// policy holds what SIGHUP reloads; see Reload.
	policy atomic.Pointer[policy]
	// conns counts open connections and upgrades in progress.
	conns atomic.Int64
	// empty is closed when conns reaches 0 during the drain.
	empty     chan struct{}
	emptyOnce sync.Once

	stop     chan struct{}
	stopOnce sync.Once
	bg       sync.WaitGroup
}

// New returns a server for cfg, which must be validated. log may be nil.
func New(cfg *config.Config, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{
		cfg:      cfg,
		log:      log,
		procs:    cfg.Procs(),
		set:      metrics.NewSet(),
		reg:      newRegistry(heartbeatBuckets(cfg.PingInterval)),
		empty:    make(chan struct{}),
		stop:     make(chan struct{}),
		adminLim: defaultAdminLimits,
	}
	p, err := newPolicy(cfg)
	if err != nil {
		return nil, err
	}
	s.policy.Store(p)
	if s.origins, err = limits.NewOriginChecker(cfg.Limits.AllowedOrigins); err != nil {
		return nil, err
	}
	if s.clientIP, err = limits.NewClientIP(cfg.Limits); err != nil {
		return nil, err
	}
	s.perIP = limits.NewPerIP(cfg.Limits.MaxConnectionsPerIP)
	s.connRate = limits.NewConnRate(cfg.Limits)
	s.m = newServerMetrics(s)
	s.hub = hub.New(cfg, s.set, log)
	s.env = conn.NewEnv(conn.Config{
		MaxPendingBytes: cfg.MaxPendingBytes,
		MaxMessageBytes: cfg.MaxMessageBytes,
		Commands:        limits.NewCommandLimiter(cfg.Limits),
	}, s.procs, (*handler)(s), s.set)
	return s, nil
}

// Start opens both listeners and starts the engine, writers and heartbeat.
func (s *Server) Start() error {
	adminLn, err := net.Listen("tcp", s.cfg.AdminListen)
	if err != nil {
		return fmt.Errorf("cannot listen on admin_listen %s: %w", s.cfg.AdminListen, err)
	}
	s.adminLn = adminLn
	s.admin = &http.Server{
		Handler:           s.adminMux(),
		ReadHeaderTimeout: s.adminLim.header,
		IdleTimeout:       s.adminLim.idle,
		MaxHeaderBytes:    s.adminLim.headerBytes,
	}

	switch {
	case s.cfg.NATS.JetStream.Enabled():
		stream, err := cluster.ConnectStream(s.cfg.NATS, s.hub.DeliverSeq, s.log)
		if err != nil {
			_ = adminLn.Close()
			return fmt.Errorf("cannot open the JetStream stream: %w", err)
		}
		s.stream = stream
		s.hub.SetStream(stream, s.cfg.NATS.PublishTimeout)
		if len(s.cfg.History.Channels) == 0 {
			s.log.Warn("JetStream mode without [history] channels: no channel reports positions, so clients cannot recover with since")
		}
	case s.cfg.NATS.Enabled():
		bus, err := cluster.Connect(s.cfg.NATS, s.hub.Deliver, s.log)
		if err != nil {
			_ = adminLn.Close()
			return fmt.Errorf("cannot connect to NATS: %w", err)
		}
		s.bus = bus
		s.hub.SetBus(bus)
	}
	addrs, addrsTLS, tlsConf, err := s.listenAddrs()
	if err != nil {
		_ = adminLn.Close()
		return err
	}
	s.engine = nbhttp.NewEngine(nbhttp.Config{
		Name:           "wsfan",
		Network:        "tcp",
		Addrs:          addrs,
		AddrsTLS:       addrsTLS,
		TLSConfig:      tlsConf,
		NPoller:        s.procs,
		Handler:        s.publicMux(),
		ReadBufferSize: pollerReadBuffer,
		// Bounds a request nbio's HTTP parser holds across reads; frames
		// after the upgrade are our reader's (ws.Reader).
		ReadLimit:              2 * ws.MaxRequestHeaderBytes,
		MaxLoad:                s.cfg.MaxConnections + 1024,
		MessageHandlerPoolSize: max(16, 8*s.procs),
		KeepaliveTime:          handshakeTimeout,
		MaxHTTPBodySize:        4096,
		// A backstop only: the backlog check closes a slow consumer
		// (1008) long before nbio's queue gets there.
		MaxWriteBufferSize: 2*s.cfg.MaxPendingBytes + 64<<10,
	})
	s.engine.Engine.OnWrittenSize(s.env.OnWritten)
	addRaceEdges(s.engine)
	if err := s.engine.Start(); err != nil {
		_ = adminLn.Close()
		return fmt.Errorf("cannot listen on listen %s: %w", s.cfg.Listen, err)
	}

	s.env.Start()
	s.bg.Add(1)
	go s.heartbeats()
	go func() {
		if err := s.admin.Serve(adminLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("admin listener failed", "err", err)
		}
	}()
	s.log.Info("wsfan listening", "listen", s.PublicAddr(), "admin_listen", s.AdminAddr(),
		"pollers", s.procs, "index_shards", s.cfg.IndexShards)
	return nil
}

// listenAddrs returns the public listener as nbio wants it: plain, or TLS
// with the certificate of cert_file/key_file.
func (s *Server) listenAddrs() (addrs, addrsTLS []string, conf *tls.Config, err error) {
	if s.cfg.CertFile == "" {
		return []string{s.cfg.Listen}, nil, nil, nil
	}
	cert, err := tls.LoadX509KeyPair(s.cfg.CertFile, s.cfg.KeyFile)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("cannot load cert_file/key_file: %w", err)
	}
	s.tls = true
	return nil, []string{s.cfg.Listen}, conn.TLSConfig([]tls.Certificate{cert}), nil
}

// PublicAddr is the public listener's address (with the real port when
// listen asked for port 0).
func (s *Server) PublicAddr() string {
	if s.tls {
		return s.engine.AddrsTLS[0]
	}
	return s.engine.Addrs[0]
}

// AdminAddr is the internal listener's address.
func (s *Server) AdminAddr() string { return s.adminLn.Addr().String() }

// Draining reports whether Shutdown has begun.
func (s *Server) Draining() bool { return s.draining.Load() }

// Shutdown drains the server: /healthz turns 503, new connections and
// publications are refused, publications already accepted are flushed,
// every client gets close 1001 "shutdown" (spread over drain_period), and
// once they are gone, or ctx expires, the listeners and pollers stop.
// It returns ctx's error if clients were still connected when it expired.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	s.hub.Close() // waits for publications in flight; later ones are refused
	if s.bus != nil {
		_ = s.bus.Close()
	}
	if s.stream != nil {
		_ = s.stream.Close()
	}
	s.log.Info("draining", "connections", s.conns.Load(), "drain_period", s.cfg.DrainPeriod)

	s.closeAllSpread(ctx)
	if s.conns.Load() == 0 {
		s.emptyOnce.Do(func() { close(s.empty) })
	}
	var err error
	select {
	case <-s.empty:
	case <-ctx.Done():
		err = fmt.Errorf("clients still connected at the shutdown deadline: %w", ctx.Err())
	}

	s.stopOnce.Do(func() { close(s.stop) })
	s.bg.Wait()
	s.env.Stop() // the writers flushed what they held
	s.engine.Stop()
	if aerr := s.admin.Shutdown(ctx); aerr != nil {
		_ = s.admin.Close()
	}
	if err != nil {
		s.log.Warn("stopped before every client left", "err", err)
	} else {
		s.log.Info("stopped")
	}
	return err
}

// closeAllSpread sends close 1001 "shutdown" to every client, in steps
// spread evenly over drain_period.
func (s *Server) closeAllSpread(ctx context.Context) {
	clients := s.reg.all()
	bye := func(cs []*conn.Conn) {
		for _, c := range cs {
			c.RequestClose(codec.CloseGoingAway, codec.CloseReasonShutdown, true)
		}
	}
	const step = 10 * time.Millisecond
	steps := int(s.cfg.DrainPeriod / step)
	if steps < 1 || len(clients) <= 1 {
		bye(clients)
		return
	}
	perStep := (len(clients) + steps - 1) / steps
	t := time.NewTicker(step)
	defer t.Stop()
	for i := 0; i < len(clients); i += perStep {
		bye(clients[i:min(i+perStep, len(clients))])
		if i+perStep >= len(clients) {
			break
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			bye(clients[i+perStep:])
			return
		}
	}
}
