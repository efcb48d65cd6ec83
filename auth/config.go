package auth

import (
	"errors"
	"fmt"
	"time"
	"wsfan/lib/defaults"
)

// Defaults and bounds of the [auth] section.
const (
	// DefaultLeeway is the clock skew allowed on exp, nbf and iat.
	DefaultLeeway = 5 * time.Second
	// MaxLeeway is the largest leeway Validate accepts.
	MaxLeeway = 5 * time.Minute
	// MinHS256SecretLen is the shortest hs256_secret Validate accepts, in
	// bytes: RFC 7518 section 3.2 asks for a key at least as long as the
	// hash output (256 bits).
	MinHS256SecretLen = 32
)

// Config is the [auth] section of config.toml. Zero values mean "use the
// default"; call ApplyDefaults, then Validate.
//
// Auth is enabled when hs256_secret or public_key_files is set. When it is
// not, every connection is anonymous (tokens are ignored), whatever
// allow_anonymous says, and only rules with subscribe = "anyone" admit
// anything.
type Config struct {
	// AllowAnonymous lets a connection without a token in when auth is
	// enabled; it gets an anonymous identity (no subject), which only
	// "anyone" rules admit. A connection that presents a token must present
	// a valid one either way. Default false.
	AllowAnonymous bool `toml:"allow_anonymous"`
	// HS256Secret is the shared HMAC key for HS256 tokens, at least 32
	// bytes. Empty: HS256 tokens are refused. Default empty.
	HS256Secret string `toml:"hs256_secret"`
	// PublicKeyFiles are PEM files of public keys or certificates: RSA
	// (2048 bits or more, RS256), ECDSA P-256 (ES256) and Ed25519 (EdDSA).
	// A file may hold several blocks. Each algorithm is accepted only when
	// a key of its type is loaded; a token of that algorithm may be signed
	// by any of those keys (rotation: list the old and the new key).
	// Default none.
	PublicKeyFiles []string `toml:"public_key_files"`
	// Audience, when set, must be one of the token's aud values. Default
	// empty (aud is not checked).
	Audience string `toml:"audience"`
	// Issuer, when set, must equal the token's iss. Default empty (iss is
	// not checked).
	Issuer string `toml:"issuer"`
	// Leeway is the clock skew allowed when checking exp, nbf and iat, at
	// most 5m. Default 5s.
	Leeway time.Duration `toml:"leeway"`
	// Rules decide who may subscribe to what; first match wins, a channel
	// no rule matches is denied. Written as [[auth.rules]] tables. Default
	// when none is given: DefaultRules if auth is enabled; with auth off and
	// no rules, every valid channel is open to everyone (a development
	// setup: every client is anonymous, so owner rules could admit no one).
	Rules []Rule `toml:"rules"`
}

// ApplyDefaults fills the zero fields with their defaults.
func (c *Config) ApplyDefaults() {
	defaults.Set(&c.Leeway, DefaultLeeway)
	if len(c.Rules) == 0 && c.Enabled() {
		c.Rules = DefaultRules()
	}
}

// Enabled reports whether tokens are verified: a secret or a public key
// file is configured.
func (c *Config) Enabled() bool {
	return c.HS256Secret != "" || len(c.PublicKeyFiles) > 0
}

// Validate checks every key and returns the errors joined, each naming its
// key ("auth.hs256_secret: ..."). It does not read the key files:
// NewVerifier does, and its error names the file's key too. Call
// ApplyDefaults first.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("auth.%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if n := len(c.HS256Secret); n > 0 && n < MinHS256SecretLen {
		bad("hs256_secret", "is %d bytes; want at least %d", n, MinHS256SecretLen)
	}
	for i, f := range c.PublicKeyFiles {
		if f == "" {
			bad(fmt.Sprintf("public_key_files[%d]", i), "empty path")
		}
	}
	if c.Leeway < 0 || c.Leeway > MaxLeeway {
		bad("leeway", "%v is outside [0, %v]", c.Leeway, MaxLeeway)
	}
	if len(c.Rules) > 0 {
		if _, err := CompileRules(c.Rules); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Redacted returns a copy safe to log: the secret is replaced by its length.
func (c *Config) Redacted() Config {
	r := *c
	if r.HS256Secret != "" {
		r.HS256Secret = fmt.Sprintf("<redacted, %d bytes>", len(r.HS256Secret))
	}
	r.PublicKeyFiles = append([]string(nil), c.PublicKeyFiles...)
	r.Rules = append([]Rule(nil), c.Rules...)
	return r
}
