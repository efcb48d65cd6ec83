package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

// decodeConfig parses serverConfig's output back.
func decodeConfig(t *testing.T, o *options) map[string]any {
	t.Helper()
	text, err := serverConfig(8080, 9090, 1, o)
	if err != nil {
		t.Fatalf("serverConfig: %v", err)
	}
	var m map[string]any
	if _, err := toml.Decode(text, &m); err != nil {
		t.Fatalf("serverConfig wrote TOML that does not parse: %v\n%s", err, text)
	}
	return m
}

func TestServerConfig(t *testing.T) {
	o := defaults()
	m := decodeConfig(t, o)
	if m["listen"] != "127.0.0.1:8080" || m["admin_listen"] != "127.0.0.1:9090" || m["cpu_limit"] != int64(1) {
		t.Fatalf("generated keys: %v", m)
	}
	if keys, _ := m["publish_keys"].([]any); len(keys) != 1 || keys[0] != defaultKey {
		t.Fatalf("publish_keys = %v", m["publish_keys"])
	}
	if _, ok := m["ping_interval"]; ok {
		t.Fatalf("ping_interval set without -ping-interval: %v", m)
	}
	if _, ok := m["conflation"]; ok {
		t.Fatalf("[conflation] without -conflate: %v", m)
	}

	// -ping-interval sets idle_timeout above it.
	o.PingInterval = 5 * time.Second
	m = decodeConfig(t, o)
	if m["ping_interval"] != "5s" || m["idle_timeout"] != "15s" {
		t.Fatalf("ping %v idle %v", m["ping_interval"], m["idle_timeout"])
	}

	// -conflate writes the table; -server-toml merges into it and
	// replaces a generated key.
	o.Conflate, o.ConflateInterval = []string{"token.*.ticker"}, 100*time.Millisecond
	o.ServerTOML = "idle_timeout = \"1m\"\ncompression = true\n[conflation]\ninterval = \"50ms\""
	m = decodeConfig(t, o)
	c, _ := m["conflation"].(map[string]any)
	if ch, _ := c["channels"].([]any); len(ch) != 1 || ch[0] != "token.*.ticker" || c["interval"] != "50ms" {
		t.Fatalf("[conflation] = %v", m["conflation"])
	}
	if m["idle_timeout"] != "1m" || m["compression"] != true || m["ping_interval"] != "5s" {
		t.Fatalf("-server-toml not merged: %v", m)
	}

	// -server-config comes before -server-toml.
	file := filepath.Join(t.TempDir(), "extra.toml")
	if err := os.WriteFile(file, []byte("max_pending_bytes = 4096\ncompression = false\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	o.ServerConfig = file
	m = decodeConfig(t, o)
	if m["max_pending_bytes"] != int64(4096) || m["compression"] != true {
		t.Fatalf("-server-config: %v", m)
	}
}

func TestServerConfigErrors(t *testing.T) {
	f := func(toml, wantErr string) {
		t.Helper()
		o := defaults()
		o.ServerTOML = toml
		_, err := serverConfig(1, 2, 0, o)
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("serverConfig with -server-toml %q: %v; want an error containing %q", toml, err, wantErr)
		}
	}
	f(`listen = "0.0.0.0:80"`, "set by the load generator")
	f(`publish_keys = ["x"]`, "set by the load generator")
	f(`ping_interval = `, "cannot parse TOML")
	o := defaults()
	o.ServerConfig = filepath.Join(t.TempDir(), "missing.toml")
	if _, err := serverConfig(1, 2, 0, o); err == nil || !strings.Contains(err.Error(), "-server-config") {
		t.Fatalf("missing -server-config file: %v", err)
	}
}

func TestServerFlags(t *testing.T) {
	o := mustParse(t, "-spawn -ping-interval 120s -conflate token.*.ticker,token.*.book -conflate-interval 50ms -server-toml compression=true -server-toml max_pending_bytes=4096")
	if o.PingInterval != 120*time.Second || len(o.Conflate) != 2 || o.Conflate[1] != "token.*.book" || o.ConflateInterval != 50*time.Millisecond {
		t.Fatalf("options %+v", o)
	}
	if o.ServerTOML != "compression=true\nmax_pending_bytes=4096" {
		t.Fatalf("-server-toml collected %q", o.ServerTOML)
	}
	// With a preset the flags are parsed twice: a repeated flag must not
	// collect its values twice.
	o = mustParse(t, "-scenario seed -spawn -server-toml compression=true")
	if o.ServerTOML != "compression=true" {
		t.Fatalf("-server-toml after a preset: %q", o.ServerTOML)
	}
	wantParseErrors(t, map[string]string{
		"-ping-interval 5s":             "need -spawn",
		"-server-toml compression=true": "need -spawn",
		"-conflate x":                   "need -spawn",
		"-spawn -server-toml listen=1":  "set by the load generator",
	})
}
