package config

import (
	"errors"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestDefaults(t *testing.T) {
	c, err := Parse(nil)
	if err != nil {
		t.Fatalf("Parse(empty): %v", err)
	}
	if c.Listen != DefaultListen || c.AdminListen != DefaultAdminListen || c.IndexShards != 16 ||
		c.PingInterval != DefaultPingInterval || c.MaxPendingBytes != DefaultMaxPendingBytes {
		t.Fatalf("unexpected defaults: %+v", c)
	}
}

func TestShippedConfigIsValid(t *testing.T) {
	c, err := Load(filepath.Join("..", "config.toml"))
	if err != nil {
		t.Fatalf("config.toml: %v", err)
	}
	// The shipped file states the defaults; it must agree with the code.
	d := Default()
	d.PublishKeys = c.PublishKeys
	nilEmptySlices(reflect.ValueOf(c).Elem()) // [] and nil say the same
	nilEmptySlices(reflect.ValueOf(d).Elem())
	if c.TOML() != d.TOML() {
		t.Fatalf("config.toml disagrees with the defaults:\n%s\nwant\n%s", c.TOML(), d.TOML())
	}
}

// nilEmptySlices sets every empty slice in the struct v to nil.
func nilEmptySlices(v reflect.Value) {
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.Slice:
			if f.Len() == 0 && f.CanSet() {
				f.Set(reflect.Zero(f.Type()))
			}
		case reflect.Struct:
			nilEmptySlices(f)
		}
	}
}

func TestValidate(t *testing.T) {
	f := func(text, wantKey string) {
		t.Helper()
		_, err := Parse([]byte(text))
		if wantKey == "" {
			if err != nil {
				t.Fatalf("Parse(%q): unexpected error %v", text, err)
			}
			return
		}
		if err == nil || !strings.Contains(err.Error(), wantKey) {
			t.Fatalf("Parse(%q) = %v; want an error naming %q", text, err, wantKey)
		}
	}
	f(`listen = "127.0.0.1:1"`, "")
	f(`listen = "nonsense"`, "listen")
	f(`admin_listen = "0.0.0.0:8080"`, "admin_listen")
	f(`publish_keys = ["short"]`, "publish_keys")
	f(`publish_keys = ["0123456789abcdef"]`, "")
	f(`index_shards = 12`, "index_shards")
	f(`index_shards = 8192`, "index_shards")
	f(`index_shards = 64`, "")
	f(`max_connections = -1`, "max_connections")
	f(`max_message_bytes = 10`, "max_message_bytes")
	f(`max_pending_bytes = 100`, "max_pending_bytes")
	f(`ping_interval = "10ms"`, "ping_interval")
	f(`ping_interval = "soon"`, "ping_interval")
	f(`idle_timeout = "10s"`, "idle_timeout")
	f(`shutdown_timeout = "1s"`, "shutdown_timeout")
	f(`cpu_limit = -2`, "cpu_limit")
	f(`no_such_key = 1`, "no_such_key")
	f(`log_format = "xml"`, "log_format")
	f(`log_level = "loud"`, "log_level")
	f(`log_level = "debug"
log_format = "json"`, "")
	f(`[history]
channels = ["token.*.trade", "bad..x"]`, "history.channels")
	f(`[history]
size = 0`, "")
	f(`[history]
size = -1`, "history.size")
	f(`listen = 5`, "listen")
	f(`[section]
x = 1`, "section")
}

func TestCPULimitEnv(t *testing.T) {
	c := Default()
	if err := c.applyEnv(func(string) string { return "3" }); err != nil || c.CPULimit != 3 {
		t.Fatalf("applyEnv(3) = %v, CPULimit %d", err, c.CPULimit)
	}
	if err := c.applyEnv(func(string) string { return "x" }); err == nil || !strings.Contains(err.Error(), CPULimitEnv) {
		t.Fatalf("applyEnv(x) = %v; want an error naming %s", err, CPULimitEnv)
	}
	t.Setenv(CPULimitEnv, "2")
	c, err := Parse([]byte("cpu_limit = 1"))
	if err != nil || c.CPULimit != 2 || c.Procs() != 2 {
		t.Fatalf("WS_CPU_LIMIT must override cpu_limit: %v %+v", err, c)
	}
}

func TestRedacted(t *testing.T) {
	c := Default()
	c.PublishKeys = []string{"super-secret-key-123"}
	r := c.Redacted()
	if strings.Contains(r.TOML(), "super-secret") {
		t.Fatalf("Redacted leaks the key:\n%s", r.TOML())
	}
	if c.PublishKeys[0] != "super-secret-key-123" {
		t.Fatal("Redacted modified the original")
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.toml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load(missing) = %v; want fs.ErrNotExist", err)
	}
}

// TestTOMLRoundTrips: what -check-config prints, comments on -1 included,
// parses back to the same configuration.
func TestTOMLRoundTrips(t *testing.T) {
	d := Default()
	d.PublishKeys = []string{"round-trip-key-0123456789"}
	text := d.TOML()
	if !strings.Contains(text, "max_connections_per_ip = -1 # off") || !strings.Contains(text, "max_reconnects = -1 # forever") {
		t.Fatalf("no note on -1:\n%s", text)
	}
	back, err := Parse([]byte(text))
	if err != nil {
		t.Fatalf("the printed configuration does not parse: %v\n%s", err, text)
	}
	if back.TOML() != text {
		t.Fatalf("round trip changed the configuration:\n%s\nwant\n%s", back.TOML(), text)
	}
}
