package limits

import (
	"errors"
	"fmt"
	"time"
	"wsfan/lib/defaults"
	"wsfan/lib/stripe"
)

// Defaults of the [limits] section, used where a key is absent or 0.
const (
	// Per-IP limits are off by default: behind a load balancer or a NAT
	// every client shares one address. Turn them on where clients connect
	// directly.
	DefaultMaxConnectionsPerIP          = Off
	DefaultNewConnectionsPerSecond      = 5000
	DefaultNewConnectionsBurst          = 5000
	DefaultNewConnectionsPerIPPerSecond = Off
	DefaultNewConnectionsPerIPBurst     = 40
	DefaultMaxTrackedIPs                = 65536
	DefaultCommandsPerSecond            = 100
	DefaultCommandBurst                 = 200
	DefaultCommandGrace                 = 5 * time.Second

	// Off, given for a limit, turns it off.
	Off = -1

	// maxRate and maxBurst bound the rates (per second) and bursts
	// Validate accepts.
	minRate  = 0.001
	maxRate  = 1e6
	maxBurst = 1e6
)

// Config is the [limits] section of config.toml. Zero values mean "use the
// default"; -1 (Off) turns a limit off where the field says so. Call
// ApplyDefaults, then Validate.
type Config struct {
	// MaxConnectionsPerIP bounds the open connections of one client address
	// (an IPv4 address, or an IPv6 /64, which one subscriber typically
	// holds whole); past it an upgrade is answered 429. Clients behind one
	// NAT share it. Default -1 (off).
	MaxConnectionsPerIP int `toml:"max_connections_per_ip"`
	// NewConnectionsPerSecond bounds upgrades accepted per second by the
	// whole server (a token bucket); past it the answer is 503 with
	// Retry-After. Default 5000; -1: off.
	NewConnectionsPerSecond float64 `toml:"new_connections_per_second"`
	// NewConnectionsBurst is the global bucket's size: upgrades accepted at
	// once after a quiet spell. Default 5000.
	NewConnectionsBurst int `toml:"new_connections_burst"`
	// NewConnectionsPerIPPerSecond bounds upgrades per second from one
	// client address (IPv4 address or IPv6 /64); past it the answer is 429.
	// Default -1 (off).
	NewConnectionsPerIPPerSecond float64 `toml:"new_connections_per_ip_per_second"`
	// NewConnectionsPerIPBurst is one address's bucket size. Default 40.
	NewConnectionsPerIPBurst int `toml:"new_connections_per_ip_burst"`
	// MaxTrackedIPs bounds the per-address connection-rate buckets held in
	// memory (about 60 bytes each: 4 MiB at the default); past it arbitrary
	// ones are forgotten, which hands those addresses a fresh burst.
	// Default 65536.
	MaxTrackedIPs int `toml:"max_tracked_ips"`
	// CommandsPerSecond is the sustained rate of client commands allowed per
	// connection; a command past it is answered RATE_LIMITED. Default 100;
	// -1: off.
	CommandsPerSecond float64 `toml:"commands_per_second"`
	// CommandBurst is the commands a connection may send at once after a
	// quiet spell. Default 200.
	CommandBurst int `toml:"command_burst"`
	// CommandGrace is how long a connection may keep sending while rate
	// limited before it is closed with 1008 "rate limited"; it may also send
	// at most commands_per_second × command_grace limited commands in that
	// time (see CommandBucket). Default 5s.
	CommandGrace time.Duration `toml:"command_grace"`
	// AllowedOrigins are the Origin values a browser may open a WebSocket
	// from: exact ("https://app.example.com"), any subdomain
	// ("https://*.example.com", which does not match example.com itself),
	// or "*" (any). Requests without an Origin header (non-browser clients)
	// are always allowed. Default empty: any origin.
	AllowedOrigins []string `toml:"allowed_origins"`
	// TrustedProxies are the networks (CIDRs, "10.0.0.0/8", or single
	// addresses) of the reverse proxies in front of wsfan. Only for a
	// connection from one of them is the client address taken from
	// X-Forwarded-For (the rightmost address that is not itself a trusted
	// proxy) or else X-Real-IP; from anyone else those headers are ignored,
	// since a client can write any header. The per-IP limits count that
	// address. Default empty: the TCP peer is the client.
	TrustedProxies []string `toml:"trusted_proxies"`
}

// ApplyDefaults fills the zero fields with their defaults.
func (c *Config) ApplyDefaults() {
	defaults.Set(&c.MaxConnectionsPerIP, DefaultMaxConnectionsPerIP)
	defaults.Set(&c.NewConnectionsPerSecond, DefaultNewConnectionsPerSecond)
	defaults.Set(&c.NewConnectionsBurst, DefaultNewConnectionsBurst)
	defaults.Set(&c.NewConnectionsPerIPPerSecond, DefaultNewConnectionsPerIPPerSecond)
	defaults.Set(&c.NewConnectionsPerIPBurst, DefaultNewConnectionsPerIPBurst)
	defaults.Set(&c.MaxTrackedIPs, DefaultMaxTrackedIPs)
	defaults.Set(&c.CommandsPerSecond, DefaultCommandsPerSecond)
	defaults.Set(&c.CommandBurst, DefaultCommandBurst)
	defaults.Set(&c.CommandGrace, DefaultCommandGrace)
}

// Default returns a Config with every default filled in.
func Default() Config {
	var c Config
	c.ApplyDefaults()
	return c
}

// Validate checks every key and returns the errors joined, each naming its
// key ("limits.commands_per_second: ..."). Call ApplyDefaults first.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("limits.%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if v := c.MaxConnectionsPerIP; v != Off && v < 1 {
		bad("max_connections_per_ip", "%d; want -1 (off) or a positive count", v)
	}
	checkRate := func(key string, v float64) {
		if v != Off && !(v >= minRate && v <= maxRate) {
			bad(key, "%v; want -1 (off) or a rate in [%v, %v] per second", v, minRate, maxRate)
		}
	}
	checkBurst := func(key string, v int) {
		if v < 1 || v > maxBurst {
			bad(key, "%d is outside [1, %d]", v, int(maxBurst))
		}
	}
	checkRate("new_connections_per_second", c.NewConnectionsPerSecond)
	checkBurst("new_connections_burst", c.NewConnectionsBurst)
	checkRate("new_connections_per_ip_per_second", c.NewConnectionsPerIPPerSecond)
	checkBurst("new_connections_per_ip_burst", c.NewConnectionsPerIPBurst)
	if v := c.MaxTrackedIPs; v < stripe.Shards || v > 1<<24 {
		bad("max_tracked_ips", "%d is outside [%d, %d]", v, stripe.Shards, 1<<24)
	}
	checkRate("commands_per_second", c.CommandsPerSecond)
	checkBurst("command_burst", c.CommandBurst)
	if g := c.CommandGrace; g < 100*time.Millisecond || g > time.Hour {
		bad("command_grace", "%v is outside [100ms, 1h]", g)
	}
	for i, p := range c.TrustedProxies {
		if _, err := parsePrefix(p); err != nil {
			bad(fmt.Sprintf("trusted_proxies[%d]", i), "%v", err)
		}
	}
	for i, o := range c.AllowedOrigins {
		if _, err := parseAllowedOrigin(o); err != nil {
			bad(fmt.Sprintf("allowed_origins[%d]", i), "%v", err)
		}
	}
	return errors.Join(errs...)
}
