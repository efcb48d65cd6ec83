package server

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestAdminListenerBounds checks that a stuck or oversized request cannot
// hold the internal listener: a chunked POST /publish body that never ends
// is answered 408, a header that never ends is cut, a huge header gets 431,
// and the listener serves the next request throughout.
func TestAdminListenerBounds(t *testing.T) {
	s := startServerWith(t, nil, func(s *Server) {
		s.adminLim.header = 300 * time.Millisecond
		s.adminLim.body = 300 * time.Millisecond
	})
	dial := func(t *testing.T) (net.Conn, *bufio.Reader) {
		c, err := net.DialTimeout("tcp", s.AdminAddr(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		return c, bufio.NewReader(c)
	}
	served := func(t *testing.T) {
		t.Helper()
		if code, body := publish(t, s, `{"channel":"admin.ok","data":1}`); code != 200 {
			t.Fatalf("publish after: %d %s", code, body)
		}
	}

	t.Run("endless chunked body", func(t *testing.T) {
		c, r := dial(t)
		start := time.Now()
		_, _ = io.WriteString(c, "POST /publish HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer "+testKey+
			"\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n[{\"ch")
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatalf("no answer to a body that never ends: %v", err)
		}
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(b), `"BAD_REQUEST"`) {
			t.Fatalf("answer %d %s; want 408 BAD_REQUEST", resp.StatusCode, b)
		}
		if took := time.Since(start); took > 3*time.Second {
			t.Fatalf("answered after %v", took)
		}
		served(t)
	})
	t.Run("endless header", func(t *testing.T) {
		c, r := dial(t)
		_, _ = io.WriteString(c, "POST /publish HTTP/1.1\r\nHost: a\r\nX-Slow: ")
		if _, err := r.ReadByte(); err == nil {
			t.Fatalf("a header that never ends was answered")
		} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("a header that never ends still holds its connection after 10 s")
		}
		served(t)
	})
	t.Run("huge header", func(t *testing.T) {
		c, r := dial(t)
		_, _ = io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: a\r\nX-Pad: "+strings.Repeat("p", 64<<10)+"\r\n\r\n")
		resp, err := http.ReadResponse(r, nil)
		if err != nil || resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("64 KiB header: %v %v; want 431", resp, err)
		}
		served(t)
	})
}
