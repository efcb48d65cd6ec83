package server

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"

	"wsfan/auth"
	"wsfan/config"
)

const testSecret = "test-hs256-secret-0123456789abcdef"

func authServer(t *testing.T, mutate func(*config.Config)) *Server {
	t.Helper()
	return startServer(t, func(c *config.Config) {
		c.Auth.HS256Secret = testSecret
		c.Auth.Rules = auth.DefaultRules()
		c.Auth.Leeway = 0
		if mutate != nil {
			mutate(c)
		}
	})
}

// token signs an HS256 JWT for sub that expires after ttl.
func token(t *testing.T, secret, sub string, ttl time.Duration) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{
		Subject:   sub,
		ExpiresAt: jwt.NewNumericDate(time.Now().Add(ttl)),
		IssuedAt:  jwt.NewNumericDate(time.Now().Add(-time.Minute)),
	}).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// dialAuth dials with the token in the query (empty: none) and returns the
// client, or the HTTP status of a refused upgrade.
func dialAuth(t *testing.T, s *Server, tok string, header http.Header) (*wsClient, int) {
	t.Helper()
	url := "ws://" + s.PublicAddr() + "/ws"
	if tok != "" {
		url += "?token=" + tok
	}
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	conn, resp, err := d.Dial(url, header)
	if err != nil {
		if resp == nil {
			t.Fatalf("dial: %v", err)
		}
		return nil, resp.StatusCode
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &wsClient{t: t, conn: conn}, 101
}

func TestAuthRefusesBadTokensWith401(t *testing.T) {
	s := authServer(t, nil)
	f := func(name, tok string, header http.Header, want int) {
		t.Helper()
		if _, got := dialAuth(t, s, tok, header); got != want {
			t.Fatalf("%s: HTTP %d; want %d", name, got, want)
		}
	}
	f("missing", "", nil, 401)
	f("malformed", "not.a.jwt", nil, 401)
	f("expired", token(t, testSecret, "42", -time.Minute), nil, 401)
	f("bad signature", token(t, "another-secret-0123456789abcdef-xx", "42", time.Hour), nil, 401)
	f("valid in query", token(t, testSecret, "42", time.Hour), nil, 101)
	f("valid in header", "", http.Header{"Authorization": {"Bearer " + token(t, testSecret, "42", time.Hour)}}, 101)
	if got := s.m.rejectedAuth.Get(); got != 4 {
		t.Fatalf("unauthorized rejections counted %d; want 4", got)
	}
}

func TestOwnerChannelRules(t *testing.T) {
	s := authServer(t, func(c *config.Config) { c.Auth.AllowAnonymous = true })
	user42, _ := dialAuth(t, s, token(t, testSecret, "42", time.Hour), nil)
	anon, _ := dialAuth(t, s, "", nil)

	ack := user42.subscribe("1", "user.42.favorites", "user.43.favorites", "token.BTC.trade", "user.*.favorites", "nowhere")
	if strings.Join(ack.Subscribed, ",") != "user.42.favorites,token.BTC.trade" || *ack.Count != 2 {
		t.Fatalf("user 42 ack %s", ack.raw)
	}
	for _, r := range ack.Rejected {
		if r.Code != "FORBIDDEN" || r.Message == "" {
			t.Fatalf("rejection %+v; want FORBIDDEN with a message", r)
		}
	}
	if len(ack.Rejected) != 3 {
		t.Fatalf("user 42 ack %s: want user.43, the wildcard on {user} and the unmatched channel rejected", ack.raw)
	}
	ack = anon.subscribe("2", "user.42.favorites", "token.*.trade")
	if strings.Join(ack.Subscribed, ",") != "token.*.trade" || len(ack.Rejected) != 1 || ack.Rejected[0].Code != "FORBIDDEN" {
		t.Fatalf("anonymous ack %s", ack.raw)
	}
	mustPublish(t, s, `{"channel":"user.42.favorites","data":"mine"}`)
	if m := user42.expect("message"); string(m.Data) != `"mine"` {
		t.Fatalf("owner got %s", m.raw)
	}
}

func TestTokenExpiringMidConnectionCloses1008(t *testing.T) {
	s := authServer(t, nil)
	c, status := dialAuth(t, s, token(t, testSecret, "7", 2*time.Second), nil)
	if status != 101 {
		t.Fatalf("dial: %d", status)
	}
	c.subscribe("1", "token.BTC.trade")
	code, reason := c.closeCode(10 * time.Second)
	if code != 1008 || reason != "token expired" {
		t.Fatalf("close %d %q; want 1008 \"token expired\"", code, reason)
	}
	if s.m.tokenExpired.Get() != 1 {
		t.Fatalf("token-expired counter %d", s.m.tokenExpired.Get())
	}
}

func TestReloadSwapsRules(t *testing.T) {
	s := authServer(t, nil)
	c, _ := dialAuth(t, s, token(t, testSecret, "42", time.Hour), nil)
	if ack := c.subscribe("1", "news.x"); len(ack.Rejected) != 1 {
		t.Fatalf("news.x must be denied by the default rules: %s", ack.raw)
	}
	cfg := *s.cfg
	cfg.Auth.Rules = append([]auth.Rule{{Pattern: "news.*", Subscribe: "authenticated"}}, auth.DefaultRules()...)
	if err := s.Reload(&cfg); err != nil {
		t.Fatal(err)
	}
	if ack := c.subscribe("2", "news.x"); len(ack.Subscribed) != 1 {
		t.Fatalf("after reload news.x must be allowed: %s", ack.raw)
	}
}
