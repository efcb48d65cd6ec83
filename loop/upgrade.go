package loop

import (
	"net/http"
	"net/netip"
	"syscall"
	"time"

	"github.com/lesismal/llib/std/crypto/tls"
	"github.com/lesismal/nbio"
	"github.com/lesismal/nbio/nbhttp"

	"wsfan/auth"
	"wsfan/codec"
	"wsfan/limits"
	"wsfan/ws"
)

// serveWS is GET /ws: the WebSocket upgrade. The checks run cheapest
// first, so a flood is refused before any token is verified.
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
	c := s.upgrade(w, key, ip, ident)
	if c == nil {
		s.conns.Add(-1)
		s.m.rejectedUpgrade.Inc()
		return
	}
	admitted = true
	s.reg.add(c)
	s.settling.add(c, c.lastSeen.Load())
	c.checkExpiry(time.Now(), s.cfg.PingInterval)
	s.m.accepted.Inc()
	if s.draining.Load() {
		// Upgraded while Shutdown began: its registry snapshot may have
		// missed this client (draining is set before the snapshot, so one
		// of the two sees the other).
		c.requestClose(codec.CloseGoingAway, codec.CloseReasonShutdown, true)
	}
}

// upgrade takes the socket over from nbhttp, makes the client its session
// and answers 101. It returns nil when the connection cannot be taken
// over: it was upgraded already (a second request read from the same
// packet) or is not one of nbio's.
func (s *Server) upgrade(w http.ResponseWriter, key string, ip netip.Addr, ident auth.Identity) *client {
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
		nbc, ok = u.Conn().(*nbio.Conn)
		if !ok {
			return nil
		}
	default:
		return nil
	}
	if _, ok := nbc.Session().(*nbhttp.Parser); !ok {
		return nil // already upgraded
	}
	id := s.nextID.Add(1)
	c := &client{
		srv:   s,
		id:    id,
		nbc:   nbc,
		ip:    ip,
		ident: ident,
	}
	c.conn = nbc
	if tlsConn != nil {
		c.conn, c.hc = tlsConn, hc
		if c.tlsOverhead = tlsRecordOverhead(tlsConn.ConnectionState()); c.tlsOverhead == 0 {
			// Not a suite listenAddrs offers: the backlog could not be
			// counted. Hang up; nbio's poller closes the socket.
			nbc.Lock()
			shutdownFD(nbc.Hash(), syscall.SHUT_RDWR)
			nbc.Unlock()
			return nil
		}
	}
	c.rd.Init(s.cfg.MaxMessageBytes, nil)
	c.cmds.Init(s.cmdLim)
	c.touch()

	// From here nbio hands this socket's bytes to c.Parse.
	nbc.SetSession(c)
	hc.Parser = nil
	_ = nbc.SetReadDeadline(time.Time{}) // the handshake timeout is over
	var b [256]byte
	c.wmu.Lock()
	c.write(ws.AppendResponse(b[:0], key, ""))
	c.wmu.Unlock()
	return c
}
