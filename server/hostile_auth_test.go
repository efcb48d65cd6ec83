package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestHostileAuth runs hostile tokens against a server with auth on (HS256,
// no anonymous clients, the default rules), while a client with a valid
// token keeps receiving: each token is refused 401 before the upgrade, and
// owner channels stay closed to other users.
func TestHostileAuth(t *testing.T) {
	s := authServer(t, nil)
	h := &hostile{s: s}
	authCases(h)
	good, status := dialAuth(t, s, token(t, testSecret, "good", time.Hour), nil)
	if status != 101 {
		t.Fatalf("good client: HTTP %d", status)
	}
	good.subscribe("good", "global")
	runHostile(t, s, good, "global", h.cases, nil)
}

// authCases are hostile JWTs (docs/protocol.md, "Connecting").
func authCases(h *hostile) {
	s := h.s
	sign := func(method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
		tok, err := jwt.NewWithClaims(method, claims).SignedString(key)
		if err != nil {
			panic(err)
		}
		return tok
	}
	now := time.Now()
	valid := func(extra jwt.MapClaims) jwt.MapClaims {
		c := jwt.MapClaims{"sub": "42", "exp": now.Add(time.Hour).Unix()}
		for k, v := range extra {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	hs := func(extra jwt.MapClaims) string {
		return sign(jwt.SigningMethodHS256, []byte(testSecret), valid(extra))
	}
	refused := func(name, tok string, header http.Header) {
		h.add("jwt: "+name, func(t *testing.T) string {
			c, status := dialAuth(t, s, tok, header)
			if c != nil || status != http.StatusUnauthorized {
				t.Fatalf("token %.40q: HTTP %d; want 401", tok, status)
			}
			return "HTTP 401"
		})
	}
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	b64 := base64.RawURLEncoding.EncodeToString

	refused("none", "", nil)
	refused("expired", hs(jwt.MapClaims{"exp": now.Add(-time.Minute).Unix()}), nil)
	refused("not yet valid", hs(jwt.MapClaims{"nbf": now.Add(time.Hour).Unix()}), nil)
	refused("no exp", hs(jwt.MapClaims{"exp": nil}), nil)
	refused("no sub", hs(jwt.MapClaims{"sub": nil}), nil)
	refused("wrong secret", sign(jwt.SigningMethodHS256, []byte("another-secret-0123456789abcdef!"), valid(nil)), nil)
	refused("alg none", b64([]byte(`{"alg":"none","typ":"JWT"}`))+"."+b64([]byte(fmt.Sprintf(`{"sub":"42","exp":%d}`, now.Add(time.Hour).Unix())))+".", nil)
	refused("ES256 when only HS256 is configured", sign(jwt.SigningMethodES256, ecKey, valid(nil)), nil)
	refused("HS512 with the right secret", sign(jwt.SigningMethodHS512, []byte(testSecret), valid(nil)), nil)
	refused("signature cut", strings.TrimRight(hs(nil), "=")[:len(hs(nil))-4], nil)
	refused("two parts", strings.Join(strings.Split(hs(nil), ".")[:2], "."), nil)
	refused("garbage", "not.a.jwt", nil)
	refused("good token with a bad one in the header", hs(nil), http.Header{"Authorization": {"Bearer garbage"}})
	h.add("jwt: owner channel of another user", func(t *testing.T) string {
		c, status := dialAuth(t, s, hs(nil), nil)
		if status != 101 {
			t.Fatalf("HTTP %d", status)
		}
		ack := c.subscribe("o", "user.43.favorites", "user.42.favorites")
		if len(ack.Rejected) != 1 || ack.Rejected[0].Code != "FORBIDDEN" || len(ack.Subscribed) != 1 {
			t.Fatalf("ack %s; want user.43 FORBIDDEN, user.42 subscribed", ack.raw)
		}
		return string(ack.raw)
	})
	h.httpAnswer("jwt: a 20 KiB token", []byte(strings.Replace(upgradeRequest(""), "GET /ws", "GET /ws?token="+strings.Repeat("a", 20<<10), 1)), 431)
}
