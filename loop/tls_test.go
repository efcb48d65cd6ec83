package loop

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"wsfan/config"
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

	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second, TLSClientConfig: clientTLS}
	conn, resp, err := d.Dial("wss://"+addr+"/ws", nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("wss dial: %v (HTTP %d)", err, status)
	}
	t.Cleanup(func() { _ = conn.Close() })
	c := &wsClient{t: t, conn: conn}
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
