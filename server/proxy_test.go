package server

import (
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"wsfan/config"
)

// TestTrustedProxies checks that per-IP limits count the forwarded client
// address behind a trusted proxy, and the peer's address otherwise.
func TestTrustedProxies(t *testing.T) {
	dialAs := func(t *testing.T, s *Server, xff string) int {
		t.Helper()
		h := http.Header{}
		if xff != "" {
			h.Set("X-Forwarded-For", xff)
		}
		d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
		conn, resp, err := d.Dial("ws://"+s.PublicAddr()+"/ws", h)
		if err != nil {
			if resp == nil {
				t.Fatalf("dial: %v", err)
			}
			return resp.StatusCode
		}
		t.Cleanup(func() { _ = conn.Close() })
		return http.StatusSwitchingProtocols
	}
	limitOne := func(c *config.Config) { c.Limits.MaxConnectionsPerIP = 1 }

	t.Run("trusted", func(t *testing.T) {
		s := startServer(t, func(c *config.Config) {
			limitOne(c)
			c.Limits.TrustedProxies = []string{"127.0.0.0/8"}
		})
		for _, step := range []struct {
			xff  string
			want int
		}{
			{"198.51.100.1", 101},
			{"198.51.100.2", 101},            // another client behind the same proxy
			{"6.6.6.6, 198.51.100.1", 429},   // the client wrote 6.6.6.6: 198.51.100.1 counts
			{"198.51.100.3, 127.0.0.9", 101}, // two trusted hops
			{"", 101},                        // no header: the proxy itself is the client
			{"", 429},
		} {
			if got := dialAs(t, s, step.xff); got != step.want {
				t.Fatalf("X-Forwarded-For %q: HTTP %d; want %d", step.xff, got, step.want)
			}
		}
	})
	t.Run("untrusted", func(t *testing.T) {
		s := startServer(t, limitOne)
		if got := dialAs(t, s, "198.51.100.1"); got != 101 {
			t.Fatalf("first: HTTP %d", got)
		}
		if got := dialAs(t, s, "198.51.100.2"); got != 429 {
			t.Fatalf("X-Forwarded-For from an untrusted peer counted: HTTP %d; want 429", got)
		}
	})
}
