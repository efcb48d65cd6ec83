package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"wsfan/codec"
	"wsfan/config"
	"wsfan/conn"
)

// selfSigned writes a self-signed ECDSA P-256 certificate for 127.0.0.1
// and localhost, valid for an hour, and its key as PEM files in a temporary
// directory. It returns their paths and a pool that trusts the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, roots *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "wsfan test"},
		NotBefore:             time.Now().Add(-time.Minute),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	roots = x509.NewCertPool()
	roots.AddCert(cert)
	return certFile, keyFile, roots
}

func TestTLSListener(t *testing.T) {
	certFile, keyFile, roots := selfSigned(t)
	s := startServer(t, func(c *config.Config) { c.CertFile, c.KeyFile = certFile, keyFile })
	addr := s.PublicAddr()
	if strings.HasSuffix(addr, ":0") {
		t.Fatalf("PublicAddr %s; want the port the kernel chose", addr)
	}
	clientTLS := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}

	c := dialWith(t, websocket.Dialer{HandshakeTimeout: 5 * time.Second, TLSClientConfig: clientTLS}, "wss://"+addr+"/ws")
	if ack := c.subscribe("1", "tls.ch"); *ack.Count != 1 {
		t.Fatalf("ack %s", ack.raw)
	}
	// A small publication, then one spanning several TLS records.
	big := `"` + strings.Repeat("x", 40<<10) + `"`
	mustPublish(t, s, `[{"channel":"tls.ch","data":{"secure":true}},{"channel":"tls.ch","data":`+big+`}]`)
	if m := c.expect("message"); m.Seq != 1 || string(m.Data) != `{"secure":true}` {
		t.Fatalf("first message %s", m.raw)
	}
	if m := c.expect("message"); m.Seq != 2 || string(m.Data) != big {
		t.Fatalf("second message: seq %d, %d bytes of data; want seq 2, %d bytes", m.Seq, len(m.Data), len(big))
	}
	c.send(`{"type":"heartbeat","pad":"` + strings.Repeat("p", 3000) + `"}`) // a client frame over several reads
	c.expect("pong")

	// /healthz is served over TLS too.
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: clientTLS}}
	hr, err := hc.Get("https://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("https /healthz: %v", err)
	}
	body, _ := io.ReadAll(hr.Body)
	hr.Body.Close()
	hc.CloseIdleConnections()
	if hr.StatusCode != 200 || strings.TrimSpace(string(body)) != "ok" {
		t.Fatalf("https /healthz = %d %q", hr.StatusCode, body)
	}

	// Plain ws:// to the TLS port fails, and so does a client that does not
	// trust the certificate; neither is counted as a connection.
	plain := websocket.Dialer{HandshakeTimeout: 3 * time.Second}
	if _, resp, err := plain.Dial("ws://"+addr+"/ws", nil); err == nil || (resp != nil && resp.StatusCode == http.StatusSwitchingProtocols) {
		t.Fatalf("ws:// dial to the TLS listener: err %v; want a failure", err)
	}
	untrusting := websocket.Dialer{HandshakeTimeout: 3 * time.Second, TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12}}
	if _, _, err := untrusting.Dial("wss://"+addr+"/ws", nil); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("wss dial without the root: err %v; want a certificate error", err)
	}
	waitFor(t, "only the wss client to remain", func() bool { return s.conns.Load() == 1 && s.reg.len() == 1 })
	c.send(`{"type":"heartbeat"}`)
	c.expect("pong")
}

// fatalRecorder is a testing.TB whose Fatalf records its message and
// unwinds with a panic, so a test can check that a helper refuses.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	panic(r)
}

// startServerFailure runs startServer and returns the message it failed
// with, or "" when the server started.
func startServerFailure(t *testing.T, mutate func(*config.Config)) (msg string) {
	t.Helper()
	r := &fatalRecorder{TB: t}
	defer func() {
		if p := recover(); p != nil {
			if p != r {
				panic(p)
			}
			msg = r.msg
		}
	}()
	startServer(r, mutate)
	return ""
}

func TestTLSConfigErrors(t *testing.T) {
	certFile, keyFile, _ := selfSigned(t)
	garbage := filepath.Join(t.TempDir(), "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := func(cert, key, want string) {
		t.Helper()
		msg := startServerFailure(t, func(c *config.Config) { c.CertFile, c.KeyFile = cert, key })
		if !strings.Contains(msg, want) {
			t.Fatalf("cert_file %q, key_file %q: startServer failed with %q; want an error naming %q", cert, key, msg, want)
		}
		t.Logf("refused: %s", msg)
	}
	// Validate refuses one file without the other.
	f(certFile, "", "test config: cert_file")
	f("", keyFile, "test config: cert_file")
	// Start refuses files it cannot load.
	f(garbage, keyFile, "cert_file")
	f(certFile, filepath.Join(t.TempDir(), "missing.pem"), "cert_file")
	f(keyFile, certFile, "cert_file")
}

// dialTLS connects a gorilla client over wss:// trusting roots.
func dialTLS(t *testing.T, s *Server, roots *x509.CertPool) *wsClient {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second, TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}
	conn, _, err := d.Dial("wss://"+s.PublicAddr()+"/ws", nil)
	if err != nil {
		t.Fatalf("wss dial: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &wsClient{t: t, conn: conn}
}

// nbioQueued returns the bytes nbio holds for c's socket, not yet taken by
// the kernel: nbio's own count, read from its connection (a test-only look
// inside nbio v1.6.12), under nbio's lock so that it matches c's counters.
func nbioQueued(t *testing.T, c *conn.Conn) (queued, estimate int64) {
	t.Helper()
	nbc := c.Socket()
	nbc.Lock()
	defer nbc.Unlock()
	f := reflect.ValueOf(nbc).Elem().FieldByName("left")
	if !f.IsValid() {
		t.Fatal("nbio.Conn has no field left: update this test for the nbio version in go.mod")
	}
	return f.Int(), c.Queued()
}

// TestTLSBacklog checks the backlog of a wss:// connection: after 100,000
// socket writes it still equals what nbio really holds, so a client that
// stops reading is closed as a slow consumer (1008) with the server's
// memory for it bounded, while a client reading on gets every publication.
// The backlog once counted plaintext handed to TLS against TLS records
// written, drifted below zero, and stopped counting nbio's queue at all.
func TestTLSBacklog(t *testing.T) {
	certFile, keyFile, roots := selfSigned(t)
	const maxPending = 256 << 10
	s := startServer(t, func(c *config.Config) {
		c.CertFile, c.KeyFile = certFile, keyFile
		c.MaxPendingBytes = maxPending
	})
	const channel = "tls.backlog"
	good := dialTLS(t, s, roots)
	good.subscribe("g", channel)
	slow := dialTLS(t, s, roots)
	slow.subscribe("s", channel)
	var srvSlow *conn.Conn
	for _, c := range s.reg.all() {
		if srvSlow == nil || c.ID() > srvSlow.ID() {
			srvSlow = c
		}
	}

	// Both clients read in the background; the slow one stops when told.
	type reader struct {
		got    atomic.Uint64 // last seq read
		closed chan [2]any   // close code and reason, once
	}
	read := func(c *wsClient, pause <-chan struct{}) *reader {
		r := &reader{closed: make(chan [2]any, 1)}
		_ = c.conn.SetReadDeadline(time.Time{})
		go func() {
			for {
				select {
				case <-pause:
					pause = nil
					time.Sleep(time.Hour) // until the test ends (the connection is closed then)
				default:
				}
				_, b, err := c.conn.ReadMessage()
				if err != nil {
					var ce *websocket.CloseError
					if errors.As(err, &ce) {
						r.closed <- [2]any{ce.Code, ce.Text}
					}
					close(r.closed)
					return
				}
				var f frame
				if json.Unmarshal(b, &f) == nil && f.Type == "message" {
					if f.Seq != r.got.Load()+1 {
						r.closed <- [2]any{-1, fmt.Sprintf("seq %d after %d", f.Seq, r.got.Load())}
						close(r.closed)
						return
					}
					r.got.Store(f.Seq)
				}
			}
		}()
		return r
	}
	pause := make(chan struct{})
	goodR, slowR := read(good, nil), read(slow, pause)
	caughtUp := func(t *testing.T, seq uint64, rs ...*reader) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for i := 0; i < len(rs); {
			select {
			case c := <-rs[i].closed:
				t.Fatalf("reader %d stopped at seq %d of %d: %v", i, rs[i].got.Load(), seq, c)
			default:
			}
			if rs[i].got.Load() == seq {
				i++
				continue
			}
			if time.Now().After(deadline) {
				t.Fatalf("reader %d at seq %d of %d", i, rs[i].got.Load(), seq)
			}
			time.Sleep(100 * time.Microsecond)
		}
	}

	seq := uint64(0)
	pub := func() {
		seq++
		s.hub.Publish([]codec.Publication{{Channel: channel, Data: []byte(fmt.Sprintf(`{"n":%d,"pad":"%s"}`, seq, strings.Repeat("p", 64)))}})
	}
	// 100,000 writes to the slow client: one publication each, the next
	// once the socket took it.
	for i := 0; i < 100_000; i++ {
		pub()
		for srvSlow.Queued() > 0 {
			runtime.Gosched()
		}
		if seq%1000 == 0 {
			caughtUp(t, seq, goodR, slowR)
		}
	}
	if q, est := nbioQueued(t, srvSlow); q != est {
		t.Fatalf("after %d publications: nbio holds %d bytes, the backlog says %d", seq, q, est)
	}

	// The slow client stops reading: once the kernel holds all it takes,
	// nbio queues the rest of one write, and what comes next waits in the
	// connection's own buffer (where nothing is copied per write); the
	// backlog counts both, nbio's part exactly.
	close(pause)
	for srvSlow.Backlog() < maxPending/4 {
		pub()
		caughtUp(t, seq, goodR)
	}
	waitFor(t, "nbio's queue and the backlog's count of it to agree", func() bool {
		q, est := nbioQueued(t, srvSlow)
		return q == est && q > 0
	})
	if q, _ := nbioQueued(t, srvSlow); q >= int64(srvSlow.Backlog()) {
		t.Fatalf("with the slow client not reading: nbio holds %d bytes of a backlog of %d; want the rest in the connection's buffer", q, srvSlow.Backlog())
	}

	// Publishing on closes the slow client as a slow consumer; nbio never
	// holds much more than max_pending_bytes for it, and the good client
	// misses nothing.
	for !srvSlow.CloseHanded() {
		pub()
		caughtUp(t, seq, goodR)
		if q, _ := nbioQueued(t, srvSlow); q > maxPending+64<<10 {
			t.Fatalf("nbio holds %d bytes for the slow client; max_pending_bytes is %d", q, maxPending)
		}
		if seq > 100_000+uint64(maxPending) {
			t.Fatalf("the slow client was never closed")
		}
	}
	for i := 0; i < 100; i++ {
		pub()
	}
	caughtUp(t, seq, goodR)
	if counter(s, "wsfan_slow_consumer_disconnects_total") != 1 {
		t.Fatalf("%d slow consumers counted; want 1", counter(s, "wsfan_slow_consumer_disconnects_total"))
	}
	select {
	case c := <-goodR.closed:
		t.Fatalf("the good client was closed: %v", c)
	default:
	}
}
