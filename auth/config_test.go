package auth

import (
	"strings"
	"testing"
	"time"

	"wsfan/lib/configtest"
)

func TestConfigTOML(t *testing.T) {
	const text = `
[auth]
allow_anonymous = true
hs256_secret = "0123456789abcdef0123456789abcdef"
public_key_files = ["/etc/wsfan/issuer.pem"]
audience = "wsfan"
issuer = "https://id.example.com"
leeway = "10s"

[[auth.rules]]
pattern = "token.*.*"
subscribe = "anyone"
wildcards = true

[[auth.rules]]
pattern = "user.{user}.>"
subscribe = "owner"
`
	c := configtest.Decode[Config](t, text, "auth")
	if !c.AllowAnonymous || c.Leeway != 10*time.Second || len(c.Rules) != 2 || c.Rules[1].Subscribe != "owner" ||
		!c.Rules[0].Wildcards || c.Audience != "wsfan" || len(c.PublicKeyFiles) != 1 || !c.Enabled() {
		t.Fatalf("decoded %+v", c)
	}
	if r := c.Redacted(); strings.Contains(r.HS256Secret, "0123") || c.HS256Secret == r.HS256Secret {
		t.Fatalf("Redacted kept the secret: %q", r.HS256Secret)
	}
}

func TestConfigDefaults(t *testing.T) {
	var c Config
	c.ApplyDefaults()
	// Auth off and no rules: no rules are added (every channel is open).
	if c.Leeway != DefaultLeeway || len(c.Rules) != 0 || c.Enabled() || c.AllowAnonymous {
		t.Fatalf("defaults: %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate(defaults): %v", err)
	}
	// Auth on and no rules: the default rules.
	c = Config{HS256Secret: strings.Repeat("k", 32)}
	c.ApplyDefaults()
	if len(c.Rules) != len(DefaultRules()) {
		t.Fatalf("auth on, no rules: got %d rules; want the defaults", len(c.Rules))
	}
}

func TestConfigValidate(t *testing.T) {
	f := func(mutate func(*Config), wantKey string) {
		t.Helper()
		c := Config{Rules: DefaultRules()}
		c.ApplyDefaults()
		mutate(&c)
		configtest.WantError(t, "Validate", c.Validate(), wantKey)
	}
	f(func(c *Config) { c.HS256Secret = "short" }, "auth.hs256_secret")
	f(func(c *Config) { c.HS256Secret = strings.Repeat("k", 32) }, "")
	f(func(c *Config) { c.PublicKeyFiles = []string{"a.pem", ""} }, "auth.public_key_files[1]")
	f(func(c *Config) { c.Leeway = -time.Second }, "auth.leeway")
	f(func(c *Config) { c.Leeway = time.Hour }, "auth.leeway")
	f(func(c *Config) { c.Rules = nil }, "")
	f(func(c *Config) { c.Rules[2].Subscribe = "everyone" }, "auth.rules[2].subscribe")
	f(func(c *Config) { c.Rules[1].Pattern = "user.>.x" }, "auth.rules[1].pattern")

}
