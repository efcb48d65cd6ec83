package limits

import (
	"reflect"
	"testing"
	"time"

	"wsfan/lib/configtest"
)

func TestConfigTOML(t *testing.T) {
	const text = `
[limits]
max_connections_per_ip = -1
new_connections_per_second = 500
new_connections_burst = 200
new_connections_per_ip_per_second = 2.5
new_connections_per_ip_burst = 5
max_tracked_ips = 1024
commands_per_second = 10
command_burst = 20
command_grace = "2s"
allowed_origins = ["https://app.example.com", "https://*.example.com"]
`
	c := configtest.Decode[Config](t, text, "limits")
	want := Config{
		MaxConnectionsPerIP: Off, NewConnectionsPerSecond: 500, NewConnectionsBurst: 200,
		NewConnectionsPerIPPerSecond: 2.5, NewConnectionsPerIPBurst: 5, MaxTrackedIPs: 1024,
		CommandsPerSecond: 10, CommandBurst: 20, CommandGrace: 2 * time.Second,
	}
	if len(c.AllowedOrigins) != 2 || c.AllowedOrigins[1] != "https://*.example.com" {
		t.Fatalf("allowed_origins = %q", c.AllowedOrigins)
	}
	c.AllowedOrigins = nil
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("decoded %+v;\nwant %+v", c, want)
	}
}

func TestConfigDefaults(t *testing.T) {
	c := Default()
	if c.MaxConnectionsPerIP != Off || c.NewConnectionsPerSecond != 5000 || c.NewConnectionsPerIPPerSecond != Off ||
		c.CommandsPerSecond != 100 || c.CommandBurst != 200 || c.CommandGrace != 5*time.Second || c.AllowedOrigins != nil {
		t.Fatalf("defaults: %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate(defaults): %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	f := func(mutate func(*Config), wantKey string) {
		t.Helper()
		c := Default()
		mutate(&c)
		configtest.WantError(t, "Validate", c.Validate(), wantKey)
	}
	f(func(c *Config) { c.MaxConnectionsPerIP = -2 }, "limits.max_connections_per_ip")
	f(func(c *Config) { c.NewConnectionsPerSecond = -5 }, "limits.new_connections_per_second")
	f(func(c *Config) { c.NewConnectionsPerSecond = Off }, "")
	f(func(c *Config) { c.NewConnectionsBurst = -1 }, "limits.new_connections_burst")
	f(func(c *Config) { c.NewConnectionsPerIPPerSecond = 1e9 }, "limits.new_connections_per_ip_per_second")
	f(func(c *Config) { c.NewConnectionsPerIPBurst = 1 << 30 }, "limits.new_connections_per_ip_burst")
	f(func(c *Config) { c.MaxTrackedIPs = 3 }, "limits.max_tracked_ips")
	f(func(c *Config) { c.CommandsPerSecond = 0.0001 }, "limits.commands_per_second")
	f(func(c *Config) { c.CommandBurst = -3 }, "limits.command_burst")
	f(func(c *Config) { c.CommandGrace = time.Millisecond }, "limits.command_grace")
	f(func(c *Config) { c.AllowedOrigins = []string{"*", "nope"} }, "limits.allowed_origins[1]")
}
