package cluster

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

func TestValidate(t *testing.T) {
	f := func(c Config, wantErr string) {
		t.Helper()
		err := c.Validate()
		switch {
		case wantErr == "" && err != nil:
			t.Fatalf("Validate(%+v) = %v; want nil", c, err)
		case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
			t.Fatalf("Validate(%+v) = %v; want an error containing %q", c, err, wantErr)
		}
	}
	ok := func() Config { return Config{URLs: []string{"nats://127.0.0.1:4222"}} }
	with := func(mod func(*Config)) Config {
		c := ok()
		mod(&c)
		return c
	}

	f(Config{}, "") // cluster mode off
	f(ok(), "")
	f(with(func(c *Config) {
		c.URLs = []string{"nats://u:p@a:4222", "tls://b", "ws://c:8080", "wss://d"}
		c.SubjectPrefix = "odin.prod."
		c.Interest = InterestAll
		c.Name = "wsfan-node-1"
		c.User, c.Password = "u", "p"
		c.TLSCAFile, c.TLSCertFile, c.TLSKeyFile = "ca.pem", "c.pem", "k.pem"
		c.PublishTimeout = 500 * time.Millisecond
		c.ReconnectWait = 250 * time.Millisecond
		c.MaxReconnects = 10
		c.PendingLimit = 1024
	}), "")

	f(with(func(c *Config) { c.URLs = []string{"127.0.0.1:4222"} }), "nats.urls: entry 0")
	f(with(func(c *Config) { c.URLs = []string{"http://a:4222"} }), "nats.urls: entry 0")
	f(with(func(c *Config) { c.URLs = append(c.URLs, "nats://") }), "nats.urls: entry 1")
	f(with(func(c *Config) { c.URLs = []string{"nats://%zz"} }), "nats.urls")
	f(with(func(c *Config) { c.SubjectPrefix = "odin" }), "nats.subject_prefix")
	f(with(func(c *Config) { c.SubjectPrefix = "." }), "nats.subject_prefix")
	f(with(func(c *Config) { c.SubjectPrefix = "odin..x." }), "nats.subject_prefix")
	f(with(func(c *Config) { c.SubjectPrefix = "od*n." }), "nats.subject_prefix")
	f(with(func(c *Config) { c.SubjectPrefix = "*." }), "nats.subject_prefix")
	f(with(func(c *Config) { c.SubjectPrefix = ">." }), "nats.subject_prefix")
	f(with(func(c *Config) { c.Interest = "channel" }), "nats.interest")
	f(with(func(c *Config) { c.CredsFile, c.Token = "x.creds", "t" }), "nats.creds_file")
	f(with(func(c *Config) { c.Token, c.User = "t", "u" }), "nats.creds_file")
	f(with(func(c *Config) { c.Password = "p" }), "nats.password")
	f(with(func(c *Config) { c.TLSCertFile = "c.pem" }), "nats.tls_cert_file")
	f(with(func(c *Config) { c.TLSKeyFile = "k.pem" }), "nats.tls_cert_file")
	f(with(func(c *Config) { c.PublishTimeout = time.Millisecond }), "nats.publish_timeout")
	f(with(func(c *Config) { c.PublishTimeout = -time.Second }), "nats.publish_timeout")
	f(with(func(c *Config) { c.PublishTimeout = 2 * time.Minute }), "nats.publish_timeout")
	f(with(func(c *Config) { c.ReconnectWait = 5 }), "nats.reconnect_wait")
	f(with(func(c *Config) { c.PendingLimit = 10 }), "nats.pending_limit")
	f(with(func(c *Config) { c.PendingLimit = -1 }), "nats.pending_limit")

	// [nats.jetstream]
	js := func(mod func(*JetStreamConfig)) Config {
		return with(func(c *Config) {
			c.SubjectPrefix = "odin."
			c.JetStream = JetStreamConfig{Stream: "WSFAN"}
			mod(&c.JetStream)
		})
	}
	f(js(func(*JetStreamConfig) {}), "")
	f(js(func(j *JetStreamConfig) {
		j.Stream, j.Replicas, j.MaxAge, j.MaxMsgsPerChannel = "wsfan_prod-2", 3, time.Hour, 1000
	}), "")
	f(js(func(j *JetStreamConfig) { j.Replicas = 5; j.MaxAge = time.Second; j.MaxMsgsPerChannel = 1 }), "")
	f(js(func(j *JetStreamConfig) { j.Stream = "WS.FAN" }), "nats.jetstream.stream")
	f(js(func(j *JetStreamConfig) { j.Stream = "WS FAN" }), "nats.jetstream.stream")
	f(js(func(j *JetStreamConfig) { j.Stream = strings.Repeat("a", 65) }), "nats.jetstream.stream")
	f(with(func(c *Config) { c.JetStream.Stream = "WSFAN" }), "nats.jetstream.stream: needs a subject_prefix")
	f(Config{SubjectPrefix: "odin.", JetStream: JetStreamConfig{Stream: "WSFAN"}}, "nats.jetstream.stream: needs nats.urls")
	f(js(func(j *JetStreamConfig) { j.Replicas = 2 }), "nats.jetstream.replicas")
	f(js(func(j *JetStreamConfig) { j.Replicas = -1 }), "nats.jetstream.replicas")
	f(js(func(j *JetStreamConfig) { j.MaxAge = 500 * time.Millisecond }), "nats.jetstream.max_age")
	f(js(func(j *JetStreamConfig) { j.MaxAge = -time.Minute }), "nats.jetstream.max_age")
	f(js(func(j *JetStreamConfig) { j.MaxMsgsPerChannel = -1 }), "nats.jetstream.max_msgs_per_channel")
	f(js(func(j *JetStreamConfig) { j.MaxMsgsPerChannel = 100001 }), "nats.jetstream.max_msgs_per_channel")
	// Off: the other keys are still checked, a bad value is found early.
	f(with(func(c *Config) { c.JetStream.Replicas = 4 }), "nats.jetstream.replicas")

	// Every bad key is reported.
	two := with(func(c *Config) { c.Interest = "x"; c.PendingLimit = 1 })
	err := two.Validate()
	if err == nil || !strings.Contains(err.Error(), "nats.interest") || !strings.Contains(err.Error(), "nats.pending_limit") {
		t.Fatalf("two bad keys: %v", err)
	}
}

func TestDefaults(t *testing.T) {
	var c Config
	if c.Enabled() {
		t.Fatal("zero Config is enabled")
	}
	c.ApplyDefaults()
	want := Config{
		Interest:       InterestPerChannel,
		Name:           "wsfan",
		PublishTimeout: 2 * time.Second,
		ReconnectWait:  time.Second,
		MaxReconnects:  -1,
		PendingLimit:   65536,
	}
	if c.Interest != want.Interest || c.Name != want.Name || c.PublishTimeout != want.PublishTimeout ||
		c.ReconnectWait != want.ReconnectWait || c.MaxReconnects != want.MaxReconnects || c.PendingLimit != want.PendingLimit {
		t.Fatalf("defaults = %+v; want %+v", c, want)
	}
	if c.JetStream.Enabled() {
		t.Fatal("zero Config has JetStream enabled")
	}
	if j := c.JetStream; j.Replicas != 1 || j.MaxAge != 5*time.Minute || j.MaxMsgsPerChannel != 100 {
		t.Fatalf("JetStream defaults = %+v", j)
	}
}

// TestTOML decodes a [nats] section the way config/ will, durations as Go
// strings, and encodes it back.
func TestTOML(t *testing.T) {
	var file struct {
		NATS Config `toml:"nats"`
	}
	src := `
[nats]
urls = ["nats://10.0.0.1:4222", "nats://10.0.0.2:4222"]
subject_prefix = "odin."
interest = "all"
name = "wsfan-1"
token = "s3cret"
tls_ca_file = "/etc/wsfan/nats-ca.pem"
publish_timeout = "1500ms"
reconnect_wait = "2s"
max_reconnects = 5
pending_limit = 4096

[nats.jetstream]
stream = "WSFAN"
replicas = 3
max_age = "5m"
max_msgs_per_channel = 250
`
	md, err := toml.Decode(src, &file)
	if err != nil {
		t.Fatal(err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		t.Fatalf("undecoded keys: %v", und)
	}
	c := file.NATS
	if len(c.URLs) != 2 || c.SubjectPrefix != "odin." || c.Interest != "all" || c.Token != "s3cret" ||
		c.PublishTimeout != 1500*time.Millisecond || c.ReconnectWait != 2*time.Second ||
		c.MaxReconnects != 5 || c.PendingLimit != 4096 || c.TLSCAFile != "/etc/wsfan/nats-ca.pem" ||
		c.JetStream != (JetStreamConfig{Stream: "WSFAN", Replicas: 3, MaxAge: 5 * time.Minute, MaxMsgsPerChannel: 250}) {
		t.Fatalf("decoded %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(file); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `publish_timeout = "1.5s"`) ||
		!strings.Contains(buf.String(), "[nats.jetstream]") || !strings.Contains(buf.String(), `max_age = "5m0s"`) {
		t.Fatalf("encoded:\n%s", buf.String())
	}
}

func TestRedacted(t *testing.T) {
	c := Config{
		URLs:     []string{"nats://user:pw@a:4222", "nats://tok3n@b:4222", "nats://c:4222"},
		Token:    "t0ken",
		User:     "u",
		Password: "pw",
	}
	r := c.Redacted()
	s := strings.Join(r.URLs, " ") + " " + r.Token + " " + r.Password
	for _, secret := range []string{"pw", "tok3n", "t0ken"} {
		if strings.Contains(s, secret) {
			t.Fatalf("Redacted() leaks %q: %s", secret, s)
		}
	}
	if !strings.Contains(s, "nats://c:4222") || !strings.Contains(s, "user:") {
		t.Fatalf("Redacted() hides too much: %s", s)
	}
	if c.Password != "pw" || c.URLs[0] != "nats://user:pw@a:4222" {
		t.Fatal("Redacted() changed the original")
	}
}
