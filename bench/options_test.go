package main

import (
	"testing"
	"time"
)

func TestParseFlagsPresets(t *testing.T) {
	f := func(args string, check func(o *options) string) {
		t.Helper()
		if msg := check(mustParse(t, args)); msg != "" {
			t.Fatalf("parseFlags(%q): %s", args, msg)
		}
	}
	f("-scenario seed", func(o *options) string {
		if o.Conns != 10000 || o.Tokens != 5 || o.Dist != distAll || o.Rate != 25 || o.User {
			return "not the seed preset"
		}
		if o.Label != "seed" || len(o.Stages) != 1 || o.Stages[0] != 10000 {
			return "label or stages wrong"
		}
		return ""
	})
	f("-scenario tokens", func(o *options) string {
		if o.Tokens != 1000 || o.Dist != distZipf || o.PerConn != 3 || !o.User || o.Rate != 2000 {
			return "not the tokens preset"
		}
		return ""
	})
	f("-scenario hot", func(o *options) string {
		if !o.isHot() || o.Tokens != 1 || o.Conns != 10000 {
			return "not the hot preset"
		}
		return ""
	})
	f("-scenario churn", func(o *options) string {
		if o.Churn != 10000 || o.Rate != 0 {
			return "not the churn preset"
		}
		return ""
	})
	f("-scenario idle", func(o *options) string {
		if o.Procs != 2 || len(o.Stages) != 3 || o.Stages[2] != 19000 || o.Conns != 19000 || o.Rate != 0 {
			return "not the idle preset"
		}
		return ""
	})
	// Explicit flags win over the preset, wherever they stand.
	f("-rate 5 -scenario seed -duration 3s -label x", func(o *options) string {
		if o.Rate != 5 || o.Duration != 3*time.Second || o.Conns != 10000 || o.Label != "x" {
			return "explicit flags did not override the preset"
		}
		return ""
	})
	f("-scenario idle -conns 300", func(o *options) string {
		if len(o.Stages) != 1 || o.Stages[0] != 300 || o.Conns != 300 {
			return "-conns did not replace the preset's stages"
		}
		return ""
	})
	f("-scenario idle -stages 100,200", func(o *options) string {
		if len(o.Stages) != 2 || o.Conns != 200 {
			return "-stages not applied"
		}
		return ""
	})
	f("-conns 50 -rate 10 -duration 1s -url ws://localhost:1/ws -admin http://127.0.0.2:2", func(o *options) string {
		if o.Label != "custom" || o.isHot() {
			return "custom run wrong"
		}
		return ""
	})
	f("-scenario seed -spawn -server-cpus 0 -load-cpus 1 -procs 2", func(o *options) string {
		if !o.Spawn || o.ServerCPUs != "0" || o.LoadCPUs != "1" || o.Procs != 2 {
			return "spawn flags not applied"
		}
		return ""
	})
}

func TestParseFlagsErrors(t *testing.T) {
	wantParseErrors(t, map[string]string{
		"-scenario nope":                 "unknown -scenario",
		"-conns 0":                       "-conns must be positive",
		"-dist pareto":                   "-dist must be",
		"-dist all -tokens 500":          "max_subscriptions_per_conn",
		"-procs 0":                       "-procs",
		"-url ws://10.0.0.1:8080/ws":     "loopback",
		"-url http://127.0.0.1:8080/ws":  "scheme must be ws",
		"-admin http://example.com:9090": "loopback",
		"-stages 10,5":                   "stages must increase",
		"-stages 10,x":                   "not a positive count",
		"-user-frac 0.5":                 "-user-frac needs -user",
		"-rate 10 -duration 0s":          "-rate needs -duration",
		"extra":                          "unexpected arguments",
		"-nosuchflag":                    "not defined",
		// The spawned server: -target, -reference (compare.go), -conflate.
		"-target raw":                       "-target raw needs -spawn",
		"-spawn -target nginx":              "-target must be",
		"-reference raw":                    "-reference raw needs -spawn",
		"-spawn -target raw -reference raw": "-reference raw needs -spawn and -target wsfan",
		"-spawn -reference wsfan":           "-reference must be",
		"-spawn -reference raw -conflate x": "does not conflate",
		"-spawn -conflate-interval 50ms":    "-conflate-interval needs -conflate",
	})
}
