package loop

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/lesismal/nbio/nbhttp"

	"wsfan/cluster"
	"wsfan/codec"
	"wsfan/index"
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
		s.m.write(w)
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
// publish API cannot work then). The public /healthz ignores NATS, so a
// NATS outage does not make load balancers drop every WebSocket.
func (s *Server) serveAdminHealth(w http.ResponseWriter, r *http.Request) {
	if s.bus != nil && !s.draining.Load() && !s.bus.Connected() {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "nats: "+s.bus.Status())
		return
	}
	s.serveHealth(w, r)
}

// servePublish is POST /publish (PROTOCOL.md, "Publish API").
func (s *Server) servePublish(w http.ResponseWriter, r *http.Request) {
	if !s.publishAuthorized(r) {
		s.publishError(w, http.StatusUnauthorized, codec.CodeUnauthorized, "missing or wrong publish key")
		return
	}
	if s.draining.Load() {
		s.publishError(w, http.StatusServiceUnavailable, codec.CodeUnavailable, "the server is draining")
		return
	}
	limit := int64(s.cfg.MaxPublishBytes)
	if r.ContentLength > limit {
		s.publishError(w, http.StatusRequestEntityTooLarge, codec.CodeTooLarge,
			fmt.Sprintf("body is %d bytes; max_publish_bytes is %d", r.ContentLength, limit))
		return
	}
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.adminLim.body))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var (
			tooBig  *http.MaxBytesError
			timeout net.Error
		)
		switch {
		case errors.As(err, &tooBig):
			s.publishError(w, http.StatusRequestEntityTooLarge, codec.CodeTooLarge,
				fmt.Sprintf("body exceeds max_publish_bytes (%d)", limit))
		case errors.As(err, &timeout) && timeout.Timeout():
			w.Header().Set("Connection", "close")
			s.publishError(w, http.StatusRequestTimeout, codec.CodeBadRequest,
				fmt.Sprintf("the body did not arrive within %v", s.adminLim.body))
		default:
			s.publishError(w, http.StatusBadRequest, codec.CodeBadRequest, "cannot read body")
		}
		return
	}
	pubs, err := codec.DecodePublish(body)
	if err != nil {
		code, msg := codec.CodeBadRequest, "malformed publication"
		var ce *codec.Error
		if errors.As(err, &ce) {
			code, msg = ce.Code, ce.Message
		}
		s.publishError(w, http.StatusBadRequest, code, msg)
		return
	}
	for i := range pubs {
		if ch := pubs[i].Channel; !index.ValidChannel(ch) {
			msg := fmt.Sprintf("invalid channel %q", ch)
			if index.ValidPattern(ch) {
				msg = fmt.Sprintf("channel %q is a wildcard pattern; publications name a concrete channel", ch)
			}
			if len(pubs) > 1 {
				msg = fmt.Sprintf("publication %d: %s", i, msg)
			}
			s.publishError(w, http.StatusBadRequest, codec.CodeInvalidChannel, msg)
			return
		}
	}
	if s.bus != nil {
		// Cluster mode: the publication reaches every node, this one
		// included, through NATS.
		if err := s.bus.Publish(pubs); err != nil {
			if errors.Is(err, cluster.ErrTooLarge) {
				s.publishError(w, http.StatusRequestEntityTooLarge, codec.CodeTooLarge, "data exceeds the NATS server's max_payload")
				return
			}
			s.log.Warn("publish through NATS failed", "err", err)
			s.publishError(w, http.StatusServiceUnavailable, codec.CodeUnavailable, "the cluster bus is down")
			return
		}
	} else if !s.publish(pubs) {
		s.publishError(w, http.StatusServiceUnavailable, codec.CodeUnavailable, "the server is draining")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprintf(w, `{"accepted":%d}`, len(pubs))
}

func (s *Server) publishError(w http.ResponseWriter, status int, code, msg string) {
	s.m.publishRejected.Inc()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b := append([]byte(`{"error":{"code":`), `"`+code+`"`...)
	b = append(b, `,"message":`...)
	b = codec.AppendJSONString(b, msg)
	b = append(b, "}}"...)
	_, _ = w.Write(b)
}
