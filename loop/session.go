package loop

import (
	"net"
	"syscall"

	"github.com/lesismal/llib/std/crypto/tls"

	"wsfan/lib/bytespool"
	"wsfan/ws"
)

// The client is nbio's session of an upgraded socket: nbhttp's engine calls
// Parse with what the poller read (decrypted under TLS) and CloseAndClean
// once, on the connection's executor, when the socket is gone.

// UnderlayerConn returns the connection nbhttp handed over at a TLS
// upgrade: nbhttp's TLS read path reaches the TLS state through it, and
// nothing else in nbio calls it. For a plain connection, the socket.
func (c *client) UnderlayerConn() net.Conn {
	if c.hc != nil {
		return c.hc
	}
	return c.nbc
}

// Parse feeds what the poller read to the frame reader. Whole messages and
// control frames go to the connection's nbio executor, in order; a frame
// that breaks RFC 6455 closes the connection with the code the reader
// gives. It never returns an error: nbio would close the socket at once,
// without our close frame.
func (c *client) Parse(data []byte) error {
	c.touch()
	c.rmu.Lock()
	c.rd.Feed(data, (*frames)(c))
	c.rmu.Unlock()
	return nil
}

// CloseAndClean releases what the connection holds; nbio calls it once,
// after every job Parse queued for it.
func (c *client) CloseAndClean(error) {
	s := c.srv
	c.closed()
	s.reg.remove(c)
	s.perIP.Release(c.ip)
	if s.conns.Add(-1) == 0 && s.draining.Load() {
		s.emptyOnce.Do(func() { close(s.empty) })
	}
}

// frames is the client as the reader's ws.Handler. Its methods run on the
// poller under c.rmu; they hand the work to the connection's executor,
// which runs it in order with every other job of the connection.
type frames client

func (f *frames) Message(op byte, payload []byte) {
	c := (*client)(f)
	buf := bytespool.Get()
	*buf = append(*buf, payload...) // the poller reuses payload's memory
	if !c.nbc.Execute(func() {
		c.srv.onMessage(c, op, *buf)
		bytespool.Put(buf)
	}) {
		bytespool.Put(buf)
	}
}

func (f *frames) Ping(payload []byte) {
	c := (*client)(f)
	var p [ws.MaxControlPayload]byte
	n := copy(p[:], payload)
	c.nbc.Execute(func() { c.srv.onPing(c, p[:n]) })
}

func (f *frames) Pong([]byte) {} // Parse already noted the peer is alive

func (f *frames) Close(code int, reason string) {
	c := (*client)(f)
	c.nbc.Execute(func() { c.peerClose(code, reason) })
}

func (f *frames) Fail(code int, reason string) {
	c := (*client)(f)
	if c.requestClose(code, reason, false) {
		c.srv.m.protocolErrors.Inc()
	}
}

// TLS records are at most maxTLSRecord plaintext bytes (dynamic record
// sizing is off, see listenAddrs); each costs the record header, the AEAD
// tag and, in TLS 1.2 GCM, an explicit nonce.
const maxTLSRecord = 16384

// tlsRecordOverhead returns the bytes a TLS record adds to its plaintext for
// the negotiated version and cipher suite, which listenAddrs restricts to
// AEAD suites; 0 for anything else.
func tlsRecordOverhead(st tls.ConnectionState) int32 {
	switch {
	case st.Version == tls.VersionTLS13:
		return 5 + 1 + 16 // header, inner content type, tag
	case st.Version != tls.VersionTLS12:
		return 0
	}
	switch st.CipherSuite {
	case tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384:
		return 5 + 8 + 16 // header, explicit nonce, tag
	case tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256:
		return 5 + 16
	}
	return 0
}

// tlsSuites are the TLS 1.2 cipher suites offered: AEAD only, so that a
// record's size follows from its plaintext's (tlsRecordOverhead).
var tlsSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// shutdownFD is shutdown(2) on the socket fd; errors (the peer already gone)
// change nothing: nbio's poller closes the socket either way.
func shutdownFD(fd, how int) {
	_ = syscall.Shutdown(fd, how)
}
