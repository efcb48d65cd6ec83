package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseFlagsPresets(t *testing.T) {
	f := func(args string, check func(o *options) string) {
		t.Helper()
		o, err := parseFlags(strings.Fields(args), io.Discard)
		if err != nil {
			t.Fatalf("parseFlags(%q): %v", args, err)
		}
		if msg := check(o); msg != "" {
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
	f := func(args, wantErr string) {
		t.Helper()
		_, err := parseFlags(strings.Fields(args), io.Discard)
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("parseFlags(%q) error %v; want one containing %q", args, err, wantErr)
		}
	}
	f("-scenario nope", "unknown -scenario")
	f("-conns 0", "-conns must be positive")
	f("-dist pareto", "-dist must be")
	f("-dist all -tokens 500", "max_subscriptions_per_conn")
	f("-procs 0", "-procs")
	f("-url ws://10.0.0.1:8080/ws", "loopback")
	f("-url http://127.0.0.1:8080/ws", "scheme must be ws")
	f("-admin http://example.com:9090", "loopback")
	f("-stages 10,5", "stages must increase")
	f("-stages 10,x", "not a positive count")
	f("-user-frac 0.5", "-user-frac needs -user")
	f("-rate 10 -duration 0s", "-rate needs -duration")
	f("extra", "unexpected arguments")
	f("-nosuchflag", "not defined")
}

func TestCPUCount(t *testing.T) {
	f := func(in string, want int, ok bool) {
		t.Helper()
		got, err := cpuCount(in)
		if got != want || (err == nil) != ok {
			t.Fatalf("cpuCount(%q) = %d, %v; want %d (ok %v)", in, got, err, want, ok)
		}
	}
	f("", 0, true)
	f("0", 1, true)
	f("1", 1, true)
	f("0-1", 2, true)
	f("0,2-3", 3, true)
	f("3-1", 0, false)
	f("a", 0, false)
}

func TestShareAndSources(t *testing.T) {
	// Every index belongs to exactly one process.
	for procs := 1; procs <= 4; procs++ {
		total := 0
		for id := range procs {
			total += share(0, 19000, id, procs)
		}
		if total != 19000 {
			t.Fatalf("procs=%d: shares sum to %d", procs, total)
		}
	}
	if got := sourceIP(0, 4).String(); got != "127.0.0.2" {
		t.Fatalf("sourceIP(0) = %s", got)
	}
	if got := sourceIP(7, 4).String(); got != "127.0.0.5" {
		t.Fatalf("sourceIP(7) = %s", got)
	}
}

func TestFindServerModule(t *testing.T) {
	root := t.TempDir()
	sub := filepath.Join(root, "bench", "x")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(path, text string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "go.mod"), "// the server\nmodule wsfan\n\ngo 1.26\n")
	write(filepath.Join(root, "bench", "go.mod"), "module wsfan/bench\n")
	f := func(start, want string) {
		t.Helper()
		got, err := findServerModule(start)
		if err != nil || got != want {
			t.Fatalf("findServerModule(%q) = %q, %v; want %q", start, got, err, want)
		}
	}
	f(root, root)
	f(filepath.Join(root, "bench"), root) // wsfan/bench is not the server
	f(sub, root)
	if _, err := findServerModule(t.TempDir()); err == nil || !strings.Contains(err.Error(), "-server-src") {
		t.Fatalf("findServerModule outside any wsfan tree: %v", err)
	}
	g := func(gomod, want string) {
		t.Helper()
		if got := modulePath([]byte(gomod)); got != want {
			t.Fatalf("modulePath(%q) = %q; want %q", gomod, got, want)
		}
	}
	g("module wsfan\n", "wsfan")
	g("module \"wsfan/bench\"\n", "wsfan/bench")
	g("modulex wsfan\n", "")
	g("go 1.26\n", "")
}
