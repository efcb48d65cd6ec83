package cluster

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"wsfan/index"
	"wsfan/lib/defaults"
)

// Interest modes (Config.Interest).
const (
	// InterestPerChannel subscribes in NATS to exactly the channels and
	// patterns this node's clients hold, one NATS subscription each.
	InterestPerChannel = "per-channel"
	// InterestAll subscribes once to subject_prefix + ">" and receives
	// every publication, whether or not a local client wants it.
	InterestAll = "all"
)

// Defaults, used where a key is absent or zero.
const (
	DefaultInterest       = InterestPerChannel
	DefaultName           = "wsfan"
	DefaultPublishTimeout = 2 * time.Second
	DefaultReconnectWait  = time.Second
	DefaultMaxReconnects  = -1 // forever
	DefaultPendingLimit   = 65536

	DefaultJetStreamReplicas          = 1
	DefaultJetStreamMaxAge            = 5 * time.Minute
	DefaultJetStreamMaxMsgsPerChannel = 100
)

// Config is the [nats] section of config.toml. Every field maps to one TOML
// key; the comment gives its unit and default. Durations are time.Duration,
// written in TOML as Go duration strings ("2s"); BurntSushi/toml reads and
// writes them natively, so this package needs no Duration type of its own
// and config/ can embed Config without an import cycle.
type Config struct {
	// URLs are the NATS servers to connect to, e.g.
	// ["nats://10.0.0.1:4222", "nats://10.0.0.2:4222"]; schemes nats, tls,
	// ws and wss. One reachable server is enough: nats.go learns the rest of
	// a NATS cluster from it. Empty: cluster mode is off. Default empty.
	URLs []string `toml:"urls"`
	// SubjectPrefix is prepended to a channel to form its NATS subject:
	// "odin." puts token.BTC.trade on odin.token.BTC.trade. Empty, or
	// channel tokens each followed by '.'. Default empty.
	SubjectPrefix string `toml:"subject_prefix"`
	// Interest is "per-channel" (subscribe in NATS only to what local
	// clients hold) or "all" (one subscription to subject_prefix + ">").
	// Default "per-channel".
	Interest string `toml:"interest"`
	// Name is the client name NATS monitoring shows for this node's
	// connection. Default "wsfan".
	Name string `toml:"name"`
	// CredsFile is a NATS .creds file (JWT and NKey seed). Optional; at most
	// one of creds_file, token and user may be set.
	CredsFile string `toml:"creds_file"`
	// Token is a NATS authorization token. Optional.
	Token string `toml:"token"`
	// User and Password authenticate with a NATS user. Optional; password
	// needs user.
	User     string `toml:"user"`
	Password string `toml:"password"`
	// TLSCAFile is a PEM file of CAs that verify the NATS servers. Optional:
	// the system roots verify tls:// servers without it.
	TLSCAFile string `toml:"tls_ca_file"`
	// TLSCertFile and TLSKeyFile are a PEM client certificate and key for
	// mutual TLS. Optional; both or neither.
	TLSCertFile string `toml:"tls_cert_file"`
	TLSKeyFile  string `toml:"tls_key_file"`
	// PublishTimeout bounds how long Publish waits for the NATS server to
	// confirm that it received a batch (a PING/PONG after it); past it the
	// publish API answers 503. In [10ms, 1m]. Default 2s.
	PublishTimeout time.Duration `toml:"publish_timeout"`
	// ReconnectWait is the pause between reconnect attempts to one server;
	// a random jitter of up to half of it is added, so that nodes do not
	// reconnect in step. In [10ms, 5m]. Default 1s.
	ReconnectWait time.Duration `toml:"reconnect_wait"`
	// MaxReconnects is how many reconnect attempts in a row are made before
	// the bridge gives up and closes (every publish then answers 503 until
	// the process restarts). Negative: forever. 0 means the default, -1.
	MaxReconnects int `toml:"max_reconnects"`
	// PendingLimit is how many messages received from NATS may wait for
	// delivery; past it NATS drops messages (slow consumer), counted by
	// Bridge.Lost. In [64, 16777216]. Default 65536.
	PendingLimit int `toml:"pending_limit"`
	// JetStream is the [nats.jetstream] table: with a stream named, the
	// cluster's source of truth is that JetStream stream (Stream, made by
	// ConnectStream) instead of core NATS (Bridge). Off by default.
	JetStream JetStreamConfig `toml:"jetstream"`
}

// JetStreamConfig is the [nats.jetstream] table. With Stream set, every
// publication is stored in that JetStream stream before the publish API
// answers 200, every node numbers a channel alike and recovers from it
// (docs/CLUSTER.md, "On JetStream").
type JetStreamConfig struct {
	// Stream is the name of the stream that holds every channel, on the
	// subjects subject_prefix + ">". ConnectStream creates it, with the
	// settings below, when it is missing, and checks it when it exists.
	// 1 to 64 of [A-Za-z0-9_-]. Empty: JetStream is off and cluster mode
	// is core NATS. Default empty.
	Stream string `toml:"stream"`
	// Replicas is how many NATS servers store each publication before it
	// is acknowledged: 1, 3 or 5. Used when the stream is created.
	// Default 1.
	Replicas int `toml:"replicas"`
	// MaxAge is how long a publication stays in the stream, and so
	// recoverable with since. In [1s, 8760h]. Default 5m.
	MaxAge time.Duration `toml:"max_age"`
	// MaxMsgsPerChannel is how many publications of each channel the
	// stream keeps (its per-subject limit): the history depth every node
	// recovers from. In [1, 100000]. Default 100.
	MaxMsgsPerChannel int `toml:"max_msgs_per_channel"`
}

// Enabled reports whether JetStream mode is on: a stream is named.
func (j *JetStreamConfig) Enabled() bool { return j.Stream != "" }

// applyDefaults fills every zero field with its default.
func (j *JetStreamConfig) applyDefaults() {
	defaults.Set(&j.Replicas, DefaultJetStreamReplicas)
	defaults.Set(&j.MaxAge, DefaultJetStreamMaxAge)
	defaults.Set(&j.MaxMsgsPerChannel, DefaultJetStreamMaxMsgsPerChannel)
}

// Enabled reports whether cluster mode is on: at least one URL is set.
func (c *Config) Enabled() bool { return len(c.URLs) > 0 }

// ApplyDefaults fills every zero field with its default.
func (c *Config) ApplyDefaults() {
	defaults.Set(&c.Interest, DefaultInterest)
	defaults.Set(&c.Name, DefaultName)
	defaults.Set(&c.PublishTimeout, DefaultPublishTimeout)
	defaults.Set(&c.ReconnectWait, DefaultReconnectWait)
	defaults.Set(&c.MaxReconnects, DefaultMaxReconnects)
	defaults.Set(&c.PendingLimit, DefaultPendingLimit)
	c.JetStream.applyDefaults()
}

// Validate checks every key and returns an error naming each bad one
// ("nats.interest: ..."). Zero values count as their defaults, so it may be
// called before or after ApplyDefaults. It does not open files: a missing
// creds or TLS file is reported by Connect.
func (c *Config) Validate() error {
	d := *c
	d.ApplyDefaults()
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("nats.%s: %s", key, fmt.Sprintf(format, args...)))
	}
	for i, u := range d.URLs {
		if err := checkURL(u); err != nil {
			bad("urls", "entry %d: %v", i, err)
		}
	}
	if p := d.SubjectPrefix; p != "" && (!strings.HasSuffix(p, ".") || !index.ValidChannel(p[:len(p)-1])) {
		bad("subject_prefix", "%q must be empty or tokens of [A-Za-z0-9_-] each followed by '.', e.g. \"odin.\"", p)
	}
	if d.Interest != InterestPerChannel && d.Interest != InterestAll {
		bad("interest", "%q is neither %q nor %q", d.Interest, InterestPerChannel, InterestAll)
	}
	auth := 0
	for _, v := range []string{d.CredsFile, d.Token, d.User} {
		if v != "" {
			auth++
		}
	}
	if auth > 1 {
		bad("creds_file", "set at most one of creds_file, token and user")
	}
	if d.Password != "" && d.User == "" {
		bad("password", "set without user")
	}
	if (d.TLSCertFile == "") != (d.TLSKeyFile == "") {
		bad("tls_cert_file", "tls_cert_file and tls_key_file go together")
	}
	inRange := func(key string, v, lo, hi time.Duration) {
		if v < lo || v > hi {
			bad(key, "%v is outside [%v, %v]", v, lo, hi)
		}
	}
	inRange("publish_timeout", d.PublishTimeout, 10*time.Millisecond, time.Minute)
	inRange("reconnect_wait", d.ReconnectWait, 10*time.Millisecond, 5*time.Minute)
	if d.PendingLimit < 64 || d.PendingLimit > 1<<24 {
		bad("pending_limit", "%d is outside [64, 16777216]", d.PendingLimit)
	}
	if js := &d.JetStream; js.Enabled() {
		if !validStreamName(js.Stream) {
			bad("jetstream.stream", "%q must be 1 to 64 of [A-Za-z0-9_-]", js.Stream)
		}
		if len(d.URLs) == 0 {
			bad("jetstream.stream", "needs nats.urls")
		}
		if d.SubjectPrefix == "" {
			// The stream would hold ">": every subject of the account,
			// the request inboxes of the JetStream API included.
			bad("jetstream.stream", "needs a subject_prefix (the stream holds subject_prefix + \">\")")
		}
	}
	// Checked even when off, so that a bad value is found before it is
	// switched on.
	if r := d.JetStream.Replicas; r != 1 && r != 3 && r != 5 {
		bad("jetstream.replicas", "%d is not 1, 3 or 5", r)
	}
	inRange("jetstream.max_age", d.JetStream.MaxAge, time.Second, 8760*time.Hour)
	if n := d.JetStream.MaxMsgsPerChannel; n < 1 || n > maxMsgsPerChannel {
		bad("jetstream.max_msgs_per_channel", "%d is outside [1, %d]", n, maxMsgsPerChannel)
	}
	return errors.Join(errs...)
}

// maxMsgsPerChannel bounds max_msgs_per_channel: Since reads a channel's
// whole retained history, so this is the most one recovery reads.
const maxMsgsPerChannel = 100000

// validStreamName reports whether s is 1 to 64 of [A-Za-z0-9_-]: a subset
// of what JetStream allows (no '.', '*', '>', white space or path
// separators) that is also safe in API subjects and file names.
func validStreamName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// checkURL accepts what nats.go dials: nats://, tls://, ws:// or wss://
// with a host.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("cannot parse %q: %w", redactURL(s), err)
	}
	switch u.Scheme {
	case "nats", "tls", "ws", "wss":
	default:
		return fmt.Errorf("%q: scheme must be nats, tls, ws or wss", redactURL(s))
	}
	if u.Hostname() == "" {
		return fmt.Errorf("%q has no host", redactURL(s))
	}
	return nil
}

// Redacted returns a copy safe to log or print: the token, the password and
// passwords inside URLs are replaced.
func (c Config) Redacted() Config {
	r := c
	r.URLs = make([]string, len(c.URLs))
	for i, u := range c.URLs {
		r.URLs[i] = redactURL(u)
	}
	if r.Token != "" {
		r.Token = "<redacted>"
	}
	if r.Password != "" {
		r.Password = "<redacted>"
	}
	return r
}

// redactURL hides the password (or a lone user token) of a URL.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		if i := strings.LastIndexByte(s, '@'); i >= 0 {
			return "<redacted>" + s[i:]
		}
		return s
	}
	if _, has := u.User.Password(); has {
		return u.Redacted()
	}
	u.User = url.User("xxxxx") // nats://token@host
	return u.String()
}
