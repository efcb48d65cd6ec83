package config

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"

	"github.com/BurntSushi/toml"
)

// Redacted returns a copy safe to log or print: publish keys are replaced by
// their length.
func (c *Config) Redacted() *Config {
	r := *c
	r.PublishKeys = make([]string, len(c.PublishKeys))
	for i, k := range c.PublishKeys {
		r.PublishKeys[i] = fmt.Sprintf("<redacted, %d bytes>", len(k))
	}
	r.Auth = c.Auth.Redacted()
	r.NATS = c.NATS.Redacted()
	return &r
}

// TOML renders the configuration as TOML, every key included, for
// -check-config and the start-up log. A -1 that turns a limit off (or
// makes NATS reconnect forever) is marked with a comment saying so; the
// text parses back to the same configuration.
func (c *Config) TOML() string {
	shown := *c
	emptyNotNil(reflect.ValueOf(&shown).Elem())
	var b bytes.Buffer
	_ = toml.NewEncoder(&b).Encode(&shown)
	lines := strings.Split(b.String(), "\n")
	section := ""
	for i, line := range lines {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "[") {
			section = strings.Trim(t, "[]") + "."
			continue
		}
		key, val, ok := strings.Cut(t, " = ")
		if !ok || (val != "-1" && val != "-1.0") {
			continue
		}
		if note, ok := minusOne[section+key]; ok {
			lines[i] = line + " # " + note
		}
	}
	return strings.Join(lines, "\n")
}

// emptyNotNil replaces the nil slices of v, a struct, and of the structs
// it holds, with empty ones, which the TOML encoder prints (it leaves a nil
// slice out). Slices of structs stay: an empty array of tables has no TOML
// form.
func emptyNotNil(v reflect.Value) {
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		switch {
		case !f.CanSet():
		case f.Kind() == reflect.Struct:
			emptyNotNil(f)
		case f.Kind() == reflect.Slice && f.IsNil() && f.Type().Elem().Kind() != reflect.Struct:
			f.Set(reflect.MakeSlice(f.Type(), 0, 0))
		}
	}
}

// minusOne says what -1 means for the keys where it means something.
var minusOne = map[string]string{
	"limits.max_connections_per_ip":            "off",
	"limits.new_connections_per_second":        "off",
	"limits.new_connections_per_ip_per_second": "off",
	"limits.commands_per_second":               "off",
	"nats.max_reconnects":                      "forever",
	"conflation.socket_send_buffer":            "the kernel's",
}
