package auth

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// MaxTokenLen is the longest token Verify parses, in bytes; a longer one is
// ErrInvalidToken before any decoding.
const MaxTokenLen = 8 << 10

// Identity is who a connection is. It is a small value: copy it into the
// connection's state.
type Identity struct {
	// Subject is the token's sub claim; empty for an anonymous identity.
	Subject string
	// Expires is the token's exp; the zero time for an anonymous identity.
	// The connection must be closed with 1008 "token expired" once it
	// passes.
	Expires time.Time
	// Anonymous is true when the connection presented no token (auth
	// disabled, or allow_anonymous).
	Anonymous bool
}

// Verifier checks connection JWTs. It is built once from a Config (the key
// files are read by NewVerifier) and is immutable afterwards: its methods
// are safe for concurrent use. To reload keys, build a new Verifier and swap
// the pointer.
type Verifier struct {
	enabled   bool
	allowAnon bool
	parser    *jwt.Parser
	// keys maps an allowed alg to what the jwt library verifies it with:
	// []byte for HS256, a key or a jwt.VerificationKeySet for the others.
	// Only the algs of configured keys are present, so HS256 is never
	// checked against a public key (alg confusion) and "none" never passes.
	keys map[string]any
	now  func() time.Time
}

// NewVerifier returns a Verifier for c, which must be validated. It reads
// and parses c.PublicKeyFiles; an error names the offending key, e.g.
// "auth.public_key_files[1]: ...".
func NewVerifier(c Config) (*Verifier, error) {
	return newVerifier(c, time.Now)
}

// newVerifier is NewVerifier with a clock, for tests.
func newVerifier(c Config, now func() time.Time) (*Verifier, error) {
	v := &Verifier{
		enabled:   c.Enabled(),
		allowAnon: c.AllowAnonymous || !c.Enabled(),
		keys:      make(map[string]any),
		now:       now,
	}
	if c.HS256Secret != "" {
		if len(c.HS256Secret) < MinHS256SecretLen {
			return nil, fmt.Errorf("auth.hs256_secret: is %d bytes; want at least %d", len(c.HS256Secret), MinHS256SecretLen)
		}
		v.keys[jwt.SigningMethodHS256.Alg()] = []byte(c.HS256Secret)
	}
	var ks keySet
	for i, f := range c.PublicKeyFiles {
		if err := ks.loadKeyFile(f); err != nil {
			return nil, fmt.Errorf("auth.public_key_files[%d]: %w", i, err)
		}
	}
	addKeys(v.keys, jwt.SigningMethodRS256.Alg(), ks.rsa)
	addKeys(v.keys, jwt.SigningMethodES256.Alg(), ks.ec)
	addKeys(v.keys, jwt.SigningMethodEdDSA.Alg(), ks.ed)

	methods := make([]string, 0, len(v.keys))
	for alg := range v.keys {
		methods = append(methods, alg)
	}
	leeway := c.Leeway
	if leeway == 0 {
		leeway = DefaultLeeway
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(methods),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(func() time.Time { return v.now() }),
	}
	if c.Audience != "" {
		opts = append(opts, jwt.WithAudience(c.Audience))
	}
	if c.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(c.Issuer))
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

// addKeys registers keys under alg: one key as itself, several as a set the
// library tries in turn.
func addKeys[K any](m map[string]any, alg string, keys []K) {
	switch len(keys) {
	case 0:
	case 1:
		m[alg] = keys[0]
	default:
		set := jwt.VerificationKeySet{Keys: make([]jwt.VerificationKey, len(keys))}
		for i, k := range keys {
			set.Keys[i] = k
		}
		m[alg] = set
	}
}

// Enabled reports whether the Verifier checks tokens; when false every
// connection is anonymous.
func (v *Verifier) Enabled() bool { return v.enabled }

// keyFunc hands the jwt library the key for the token's alg. The parser has
// already refused algs outside v.keys; the lookup repeats the check so that
// no key of the wrong type can ever reach a verify function.
func (v *Verifier) keyFunc(t *jwt.Token) (any, error) {
	k, ok := v.keys[t.Method.Alg()]
	if !ok {
		return nil, fmt.Errorf("no key for alg %q", t.Method.Alg())
	}
	return k, nil
}

// Verify parses and checks a token: its alg must be one of the configured
// keys' (HS256 with hs256_secret, RS256/ES256/EdDSA with a loaded key of
// that type; never "none"), its signature must verify, exp is required and
// must not have passed, nbf and iat must not be in the future (each with the
// leeway), aud and iss must match when configured, and sub must be present.
// The error wraps ErrInvalidToken or ErrExpired. With auth disabled every
// token is ErrInvalidToken (see Authenticate).
func (v *Verifier) Verify(token string) (Identity, error) {
	if len(token) > MaxTokenLen {
		return Identity{}, fmt.Errorf("%w: %d bytes; at most %d", ErrInvalidToken, len(token), MaxTokenLen)
	}
	if len(v.keys) == 0 {
		return Identity{}, fmt.Errorf("%w: no verification key is configured", ErrInvalidToken)
	}
	var claims jwt.RegisteredClaims
	if _, err := v.parser.ParseWithClaims(token, &claims, v.keyFunc); err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return Identity{}, fmt.Errorf("%w: %w", ErrExpired, err)
		}
		return Identity{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if claims.Subject == "" {
		return Identity{}, fmt.Errorf("%w: no sub claim", ErrInvalidToken)
	}
	// WithExpirationRequired guarantees ExpiresAt is set.
	return Identity{Subject: claims.Subject, Expires: claims.ExpiresAt.Time}, nil
}

// Authenticate returns the identity of an upgrade request. With auth
// disabled it is anonymous and any token is ignored. With auth enabled, a
// request without a token is anonymous when allow_anonymous is set and
// ErrMissingToken otherwise; a request with a token gets Verify's answer
// (an invalid token is never downgraded to anonymous).
func (v *Verifier) Authenticate(r *http.Request) (Identity, error) {
	if !v.enabled {
		return Identity{Anonymous: true}, nil
	}
	tok := TokenFromRequest(r)
	if tok == "" {
		if v.allowAnon {
			return Identity{Anonymous: true}, nil
		}
		return Identity{}, ErrMissingToken
	}
	return v.Verify(tok)
}

// TokenFromRequest returns the request's credential: the token of an
// "Authorization: Bearer <jwt>" header (the scheme matched
// case-insensitively), else the first token query parameter, else "".
// Browsers cannot set headers on a WebSocket, so they use ?token=; the
// header wins when both are given.
func TokenFromRequest(r *http.Request) string {
	const prefix = "bearer "
	if h := r.Header.Get("Authorization"); len(h) > len(prefix) && strings.EqualFold(h[:len(prefix)], prefix) {
		if tok := strings.TrimSpace(h[len(prefix):]); tok != "" {
			return tok
		}
	}
	if r.URL == nil {
		return ""
	}
	q := r.URL.RawQuery
	for q != "" {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		k, val, _ := strings.Cut(kv, "=")
		if k != "token" {
			continue
		}
		if s, err := url.QueryUnescape(val); err == nil {
			return s
		}
		return ""
	}
	return ""
}
