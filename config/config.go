package config

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"wsfan/auth"
	"wsfan/cluster"
	"wsfan/lib/defaults"
	"wsfan/limits"
)

// Defaults, used where a key is absent or zero.
const (
	DefaultListen                  = "0.0.0.0:8080"
	DefaultAdminListen             = "127.0.0.1:9090"
	DefaultIndexShards             = 16
	DefaultMaxConnections          = 100000
	DefaultMaxSubscriptionsPerConn = 100
	DefaultMinChannelsPerCommand   = 100
	DefaultMaxMessageBytes         = 4096
	DefaultMaxPublishBytes         = 1 << 20
	DefaultMaxPendingBytes         = 1 << 20
	DefaultPingInterval            = 25 * time.Second
	DefaultIdleTimeout             = 60 * time.Second
	DefaultDrainPeriod             = 5 * time.Second
	DefaultShutdownTimeout         = 15 * time.Second
	DefaultHistorySize             = 100
	DefaultHistoryTTL              = 5 * time.Minute
	DefaultHistoryMaxBytes         = 256 << 20
	DefaultConflationInterval      = 100 * time.Millisecond
	DefaultConflationSendBuffer    = 32 << 10
	DefaultCompressionLevel        = 1
	DefaultCompressionMinBytes     = 128

	// MinPublishKeyLen is the shortest publish key Validate accepts.
	MinPublishKeyLen = 16
	// CPULimitEnv overrides cpu_limit when set, as the predecessor's
	// deployments do.
	CPULimitEnv = "WS_CPU_LIMIT"
)

// Config is wsfan's configuration. Every field maps to one TOML key; the
// comment gives its unit and default.
type Config struct {
	// Listen is the public listener (GET /ws, GET /healthz). Default 0.0.0.0:8080.
	Listen string `toml:"listen"`
	// AdminListen is the internal listener (POST /publish, GET /metrics,
	// GET /healthz). Default 127.0.0.1:9090. Never expose it publicly.
	AdminListen string `toml:"admin_listen"`
	// PublishKeys are the bearer keys accepted by POST /publish; each at
	// least 16 bytes. Empty: every publish is answered 401.
	PublishKeys []string `toml:"publish_keys"`
	// IndexShards is the subscription index's shard count, a power of two in
	// [1, 4096]. Default 16.
	IndexShards int `toml:"index_shards"`
	// MaxConnections bounds open WebSocket connections; past it an upgrade is
	// answered 503. Default 100000.
	MaxConnections int `toml:"max_connections"`
	// MaxSubscriptionsPerConn bounds one connection's subscriptions; past it
	// a channel is rejected with TOO_MANY_SUBSCRIPTIONS. Default 100.
	MaxSubscriptionsPerConn int `toml:"max_subscriptions_per_conn"`
	// MaxChannelsPerCommand bounds the channels one subscribe or unsubscribe
	// names; a command naming more is answered with an error frame
	// TOO_MANY_SUBSCRIPTIONS and changes nothing. It bounds the ack, which
	// must fit in half of max_pending_bytes (codec.MaxAckBytesPerChannel
	// bytes a channel). Default: max_subscriptions_per_conn, at least 100,
	// at most what fits.
	MaxChannelsPerCommand int `toml:"max_channels_per_command"`
	// MaxMessageBytes bounds a client frame, in bytes; past it the
	// connection is closed with 1009. Default 4096.
	MaxMessageBytes int `toml:"max_message_bytes"`
	// MaxPublishBytes bounds a POST /publish body, in bytes; past it the
	// answer is 413. Default 1048576 (1 MiB).
	MaxPublishBytes int `toml:"max_publish_bytes"`
	// MaxPendingBytes bounds a connection's unsent bytes; past it the
	// connection is closed with 1008 "slow consumer". Default 1048576.
	MaxPendingBytes int `toml:"max_pending_bytes"`
	// Compression accepts permessage-deflate (RFC 7692) from clients that
	// offer it, without context takeover: each publication is compressed
	// once, whatever its number of subscribers. Default true.
	Compression *bool `toml:"compression"`
	// CompressionLevel is the deflate level, 1 (fastest) to 9 (smallest).
	// Default 1.
	CompressionLevel int `toml:"compression_level"`
	// CompressionMinBytes: messages shorter than this many bytes go out
	// uncompressed, even to clients that negotiated compression. Default 128.
	CompressionMinBytes int `toml:"compression_min_bytes"`
	// PingInterval is how often the server pings every connection. Default 25s.
	PingInterval time.Duration `toml:"ping_interval"`
	// IdleTimeout closes a connection that sent nothing (no pong, no frame)
	// for this long. Must exceed ping_interval. Default 60s.
	IdleTimeout time.Duration `toml:"idle_timeout"`
	// DrainPeriod spreads the 1001 "shutdown" closes on SIGTERM over this
	// long, so clients do not all reconnect at once. Default 5s.
	DrainPeriod time.Duration `toml:"drain_period"`
	// ShutdownTimeout is the hard limit for a graceful stop; it must exceed
	// drain_period. Default 15s.
	ShutdownTimeout time.Duration `toml:"shutdown_timeout"`
	// LogFormat is "text" (default) or "json".
	LogFormat string `toml:"log_format"`
	// LogLevel is "debug", "info" (default), "warn" or "error".
	LogLevel string `toml:"log_level"`
	// Pprof serves /debug/pprof/ on the internal listener. Default false.
	Pprof bool `toml:"pprof"`
	// CertFile and KeyFile, both set, serve the public listener over TLS
	// (wss://). PEM files. Default empty (plain ws://; terminate TLS in
	// front of wsfan or set these).
	CertFile string `toml:"cert_file"`
	KeyFile  string `toml:"key_file"`
	// Auth configures connection JWTs and channel rules ([auth]).
	Auth auth.Config `toml:"auth"`
	// Limits configures abuse limits ([limits]).
	Limits limits.Config `toml:"limits"`
	// NATS configures cluster mode ([nats]); off unless urls is set.
	NATS cluster.Config `toml:"nats"`
	// History configures per-channel history and recovery ([history]).
	History History `toml:"history"`
	// Conflation configures channels that deliver the latest value
	// ([conflation]).
	Conflation Conflation `toml:"conflation"`
	// CPULimit sets GOMAXPROCS and the number of pollers; the WS_CPU_LIMIT
	// environment variable overrides it. 0: the runtime's (cgroup-aware)
	// default.
	CPULimit int `toml:"cpu_limit"`
}

// History is the [history] section: which channels keep their last
// publications so that a reconnecting client can recover what it missed.
type History struct {
	// Channels are the channel patterns ('*' one token, trailing '>' one or
	// more) whose channels keep history. Default: none (history off).
	Channels []string `toml:"channels"`
	// Size is how many publications a channel keeps. Default 100.
	Size int `toml:"size"`
	// TTL is the oldest publication kept. Default "5m".
	TTL time.Duration `toml:"ttl"`
	// MaxBytes bounds the memory of all history rings together, in bytes
	// (their slots and the frames they hold); past it a channel makes room
	// by evicting its own oldest publications, counted in
	// wsfan_history_evictions_total. Default 268435456 (256 MiB).
	MaxBytes int `toml:"max_bytes"`
}

// Conflation is the [conflation] section: channels that deliver at most
// one message per interval, the latest (PROTOCOL.md, "Conflation").
type Conflation struct {
	// Channels are the channel patterns ('*' one token, a trailing '>' one
	// or more) whose publications are conflated. Default: none.
	Channels []string `toml:"channels"`
	// Interval: at most one delivery per channel per interval. Default
	// "100ms".
	Interval time.Duration `toml:"interval"`
	// SocketSendBuffer caps the kernel send buffer (SO_SNDBUF, in bytes;
	// the kernel doubles it) of a connection once it subscribes to a
	// conflated channel, or a pattern that can match one: what waits in
	// the kernel cannot be replaced by a newer value, what waits in wsfan
	// can. -1: leave the kernel's autotuned buffer. Default 32768.
	SocketSendBuffer int `toml:"socket_send_buffer"`
}

// Default returns a Config with every default filled in.
func Default() *Config {
	c := &Config{}
	c.ApplyDefaults()
	return c
}

// Load reads the TOML file at path, fills defaults, applies the
// WS_CPU_LIMIT override and validates the result. Unknown keys are an error.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read config: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Parse is Load for TOML text already in memory.
func Parse(b []byte) (*Config, error) {
	c := &Config{}
	md, err := toml.NewDecoder(bytes.NewReader(b)).Decode(c)
	if err != nil {
		return nil, fmt.Errorf("cannot parse TOML: %w", err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return nil, fmt.Errorf("unknown key(s): %s", strings.Join(keys, ", "))
	}
	c.ApplyDefaults()
	if err := c.applyEnv(os.Getenv); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// ApplyDefaults fills every key left zero with its default; keys whose
// default derives from others (max_channels_per_command) take it from
// their current values.
func (c *Config) ApplyDefaults() {
	defaults.Set(&c.Listen, DefaultListen)
	defaults.Set(&c.AdminListen, DefaultAdminListen)
	defaults.Set(&c.LogFormat, "text")
	defaults.Set(&c.LogLevel, "info")
	defaults.Set(&c.IndexShards, DefaultIndexShards)
	defaults.Set(&c.MaxConnections, DefaultMaxConnections)
	defaults.Set(&c.MaxSubscriptionsPerConn, DefaultMaxSubscriptionsPerConn)
	defaults.Set(&c.MaxPendingBytes, DefaultMaxPendingBytes)
	defaults.Set(&c.MaxChannelsPerCommand, min(max(DefaultMinChannelsPerCommand, c.MaxSubscriptionsPerConn), c.maxChannelsPerCommand()))
	defaults.Set(&c.MaxMessageBytes, DefaultMaxMessageBytes)
	defaults.Set(&c.MaxPublishBytes, DefaultMaxPublishBytes)
	if c.Compression == nil {
		on := true
		c.Compression = &on
	}
	defaults.Set(&c.CompressionLevel, DefaultCompressionLevel)
	defaults.Set(&c.CompressionMinBytes, DefaultCompressionMinBytes)
	defaults.Set(&c.PingInterval, DefaultPingInterval)
	defaults.Set(&c.IdleTimeout, DefaultIdleTimeout)
	defaults.Set(&c.DrainPeriod, DefaultDrainPeriod)
	defaults.Set(&c.ShutdownTimeout, DefaultShutdownTimeout)
	c.Auth.ApplyDefaults()
	c.Limits.ApplyDefaults()
	c.NATS.ApplyDefaults()
	defaults.Set(&c.History.Size, DefaultHistorySize)
	defaults.Set(&c.History.TTL, DefaultHistoryTTL)
	defaults.Set(&c.History.MaxBytes, DefaultHistoryMaxBytes)
	defaults.Set(&c.Conflation.Interval, DefaultConflationInterval)
	defaults.Set(&c.Conflation.SocketSendBuffer, DefaultConflationSendBuffer)
}

// CompressionOn reports whether permessage-deflate is accepted.
func (c *Config) CompressionOn() bool { return c.Compression == nil || *c.Compression }

// applyEnv applies WS_CPU_LIMIT, which overrides cpu_limit.
func (c *Config) applyEnv(getenv func(string) string) error {
	v := getenv(CPULimitEnv)
	if v == "" {
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return fmt.Errorf("%s=%q: want a non-negative integer", CPULimitEnv, v)
	}
	c.CPULimit = n
	return nil
}

// SlogLevel returns log_level as a slog.Level.
func (c *Config) SlogLevel() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return 0, fmt.Errorf("%q is not debug, info, warn or error", c.LogLevel)
	}
	return l, nil
}

// Logger returns a logger writing to w in log_format at log_level.
func (c *Config) Logger(w io.Writer) *slog.Logger {
	level, _ := c.SlogLevel()
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Procs returns the GOMAXPROCS the server should run with: cpu_limit when
// set, else the runtime's current value.
func (c *Config) Procs() int {
	if c.CPULimit > 0 {
		return c.CPULimit
	}
	return runtime.GOMAXPROCS(0)
}
