package server

import (
	"net/http"
	"time"

	"wsfan/auth"
	"wsfan/codec"
	"wsfan/limits"
	"wsfan/ws"
)

// serveWS is GET /ws: the WebSocket upgrade. The checks run cheapest
// first, so a flood is refused before any token is verified, and nothing
// is allocated for a connection before it is admitted.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		s.reject(w, s.m.rejectedDrain, http.StatusServiceUnavailable, "draining")
		return
	}
	key, herr := ws.CheckRequest(r)
	if herr != nil {
		if herr.Status == http.StatusUpgradeRequired {
			w.Header().Set("Sec-WebSocket-Version", ws.SupportedVersion)
		}
		s.reject(w, s.m.rejectedUpgrade, herr.Status, herr.Message)
		return
	}
	if !s.origins.Check(r) {
		s.reject(w, s.m.rejectedOrigin, http.StatusForbidden, "origin not allowed")
		return
	}
	ip := s.clientIP.Of(r)
	if !s.perIP.Acquire(ip) {
		s.reject(w, s.m.rejectedPerIP, http.StatusTooManyRequests, "too many connections from this address")
		return
	}
	admitted := false
	defer func() {
		if !admitted {
			s.perIP.Release(ip)
		}
	}()
	switch s.connRate.Admit(ip, time.Now()) {
	case limits.RefusedPerIP:
		w.Header().Set("Retry-After", "1")
		s.reject(w, s.m.rejectedIPRate, http.StatusTooManyRequests, "too many new connections from this address")
		return
	case limits.RefusedGlobal:
		w.Header().Set("Retry-After", "1")
		s.reject(w, s.m.rejectedRate, http.StatusServiceUnavailable, "too many new connections")
		return
	}
	ident, err := s.policy.Load().verifier.Authenticate(r)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		s.log.Debug("connection refused", "remote", r.RemoteAddr, "err", err)
		s.reject(w, s.m.rejectedAuth, http.StatusUnauthorized, auth.PublicMessage(err))
		return
	}
	if n := s.conns.Add(1); n > int64(s.cfg.MaxConnections) {
		s.conns.Add(-1)
		s.reject(w, s.m.rejectedLimit, http.StatusServiceUnavailable, "too many connections")
		return
	}
	ext := ""
	if s.cfg.CompressionOn() {
		ext = ws.NegotiateDeflate(r.Header.Values("Sec-WebSocket-Extensions"))
	}
	c := s.env.Upgrade(w, key, ext, ip, ident)
	if c == nil {
		s.conns.Add(-1)
		s.m.rejectedUpgrade.Inc()
		return
	}
	admitted = true
	s.reg.add(c)
	s.settling.add(c, c.LastSeen())
	s.checkExpiry(c, time.Now(), s.cfg.PingInterval)
	s.m.accepted.Inc()
	if s.draining.Load() {
		// Upgraded while Shutdown began: its registry snapshot may have
		// missed this client (draining is set before the snapshot, so one
		// of the two sees the other).
		c.RequestClose(codec.CloseGoingAway, codec.CloseReasonShutdown, true)
	}
}

// reject answers an upgrade request with status and a short text, and
// counts it.
func (s *Server) reject(w http.ResponseWriter, counter interface{ Inc() }, status int, msg string) {
	counter.Inc()
	http.Error(w, msg, status)
}
