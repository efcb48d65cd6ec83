package main

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"slices"

	"github.com/BurntSushi/toml"
)

// ownedKeys are the spawned server's keys the load generator must set
// itself: it dials those ports and publishes with that key.
var ownedKeys = []string{"listen", "admin_listen", "publish_keys"}

// serverConfig returns the spawned server's TOML. The load generator's
// own keys come first: loopback ports, the run's key, cpu_limit from the
// pinning (cpus; 0 leaves the runtime's default), a short drain, and with
// -ping-interval the ping interval and an idle_timeout of three intervals
// (the server requires idle_timeout > ping_interval; the clients answer
// every ping), and with -conflate a [conflation] table. Then -server-config
// (a file) and -server-toml (text) are merged over them, in that order:
// their keys replace the generated ones, their tables merge key by key.
// Every other key keeps the server's default (max_connections 100000,
// ping_interval 25s, max_pending_bytes 1 MiB).
func serverConfig(port, adminPort, cpus int, o *options) (string, error) {
	cfg := map[string]any{
		"listen":           fmt.Sprintf("127.0.0.1:%d", port),
		"admin_listen":     fmt.Sprintf("127.0.0.1:%d", adminPort),
		"publish_keys":     []string{o.Key},
		"cpu_limit":        cpus,
		"drain_period":     "1s",
		"shutdown_timeout": "5s",
	}
	if o.PingInterval > 0 {
		cfg["ping_interval"] = o.PingInterval.String()
		cfg["idle_timeout"] = (3 * o.PingInterval).String()
	}
	if len(o.Conflate) > 0 {
		c := map[string]any{"channels": o.Conflate}
		if o.ConflateInterval > 0 {
			c["interval"] = o.ConflateInterval.String()
		}
		cfg["conflation"] = c
	}
	if o.ServerConfig != "" {
		b, err := os.ReadFile(o.ServerConfig)
		if err != nil {
			return "", fmt.Errorf("-server-config: %w", err)
		}
		if err := mergeTOML(cfg, string(b)); err != nil {
			return "", fmt.Errorf("-server-config %s: %w", o.ServerConfig, err)
		}
	}
	if o.ServerTOML != "" {
		if err := mergeTOML(cfg, o.ServerTOML); err != nil {
			return "", fmt.Errorf("-server-toml: %w", err)
		}
	}
	var buf bytes.Buffer
	buf.WriteString("# written by the load generator (bench/) for -spawn\n")
	if err := toml.NewEncoder(&buf).Encode(cfg); err != nil {
		return "", fmt.Errorf("cannot write the server config: %w", err)
	}
	return buf.String(), nil
}

// mergeTOML parses text and merges it into dst: a table merges with the
// table of the same name key by key, any other value replaces dst's.
// The load generator's own keys (ownedKeys) may not be set.
func mergeTOML(dst map[string]any, text string) error {
	var src map[string]any
	if _, err := toml.Decode(text, &src); err != nil {
		return fmt.Errorf("cannot parse TOML: %w", err)
	}
	for _, k := range ownedKeys {
		if _, ok := src[k]; ok {
			return fmt.Errorf("%s is set by the load generator (it dials and publishes there)", k)
		}
	}
	mergeTables(dst, src)
	return nil
}

func mergeTables(dst, src map[string]any) {
	for _, k := range slices.Sorted(maps.Keys(src)) {
		sv := src[k]
		st, sIsTable := sv.(map[string]any)
		dt, dIsTable := dst[k].(map[string]any)
		if sIsTable && dIsTable {
			mergeTables(dt, st)
			continue
		}
		dst[k] = sv
	}
}

// tomlLines is a flag.Value that collects repeated -server-toml values,
// one TOML fragment each, joined by newlines: a top-level key must come
// before the first [table] header of all of them.
type tomlLines struct{ s *string }

func (t tomlLines) String() string {
	if t.s == nil {
		return ""
	}
	return *t.s
}

func (t tomlLines) Set(v string) error {
	if *t.s != "" {
		*t.s += "\n"
	}
	*t.s += v
	return nil
}
