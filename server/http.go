package server

import (
	"io"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/lesismal/nbio/nbhttp"
)

// publicMux serves the public listener: /ws and /healthz only.
func (s *Server) publicMux() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", s.serveWS)
	mux.HandleFunc("GET /healthz", s.serveHealth)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if alreadyUpgraded(w) {
			// Bytes after an upgrade request belong to the WebSocket, yet
			// nbio's HTTP parser may have read a second request from the
			// same packet. Answering it would corrupt the stream: close.
			if c, _, err := w.(http.Hijacker).Hijack(); err == nil {
				_ = c.Close()
			}
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// alreadyUpgraded reports whether w's connection was upgraded to a
// WebSocket by an earlier request: nbio then detaches its HTTP parser.
func alreadyUpgraded(w http.ResponseWriter) bool {
	res, ok := w.(*nbhttp.Response)
	if !ok || res.Parser == nil {
		return false
	}
	if res.Parser.ParserCloser != nil {
		return true
	}
	hc, ok := res.Parser.Conn.(*nbhttp.Conn)
	return ok && hc.Parser == nil
}

// adminLimits bound the requests of the internal listener, which faces the
// backend, not browsers, but must not let one stuck publisher hold a
// connection (or a goroutine) forever.
type adminLimits struct {
	header      time.Duration // the request line and header: past it the connection is closed, unanswered
	body        time.Duration // a POST /publish body, from the end of the header: past it, 408
	idle        time.Duration // a keep-alive connection between requests
	headerBytes int           // past it, 431
}

var defaultAdminLimits = adminLimits{
	header:      5 * time.Second,
	body:        10 * time.Second,
	idle:        2 * time.Minute,
	headerBytes: 16 << 10,
}

// adminMux serves the internal listener.
func (s *Server) adminMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /publish", s.servePublish)
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		s.writeMetrics(w)
	})
	mux.HandleFunc("GET /healthz", s.serveAdminHealth)
	if s.cfg.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// serveHealth answers 200 "ok" while the server accepts connections and 503
// while it drains.
func (s *Server) serveHealth(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.draining.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "draining")
		return
	}
	_, _ = io.WriteString(w, "ok")
}

// serveAdminHealth is the internal listener's /healthz: like the public
// one, and in cluster mode also 503 with the reason while NATS is down (the
// publish API cannot work then) and, on JetStream, while the node catches
// up with what the stream stored meanwhile ("nats: connected to ...;
// catching up (N pending)"). The public /healthz ignores NATS, so a
// NATS outage does not make load balancers drop every WebSocket.
func (s *Server) serveAdminHealth(w http.ResponseWriter, r *http.Request) {
	var down string // why NATS keeps this node from serving publications
	switch {
	case s.draining.Load():
	case s.stream != nil && s.stream.CatchingUp():
		// Down, or delivering what the stream stored while it was away.
		down = s.stream.Status()
	case s.bus != nil && !s.bus.Connected():
		down = s.bus.Status()
	}
	if down != "" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "nats: "+down)
		return
	}
	s.serveHealth(w, r)
}
