package main

import (
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"wsfan/lib/proctest"
)

// TestStartupAndStopLog reads what an operator sees from a start on
// defaults and a clean stop: the effective configuration as TOML (secrets
// redacted), gomaxprocs once, no open-file warning the operator did not
// ask for, and a stop without "err=<nil>".
func TestStartupAndStopLog(t *testing.T) {
	const key = "startup-log-key-0123456789"
	w := proctest.Start(t, proctest.Build(t), fmt.Sprintf("publish_keys = [%q]\ndrain_period = \"50ms\"\n", key), nil)
	if err := w.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-w.Exited:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, w.Log())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no exit")
	}
	out := w.Log()
	for _, want := range []string{`ping_interval = "25s"`, `leeway = "5s"`, "[limits]", `max_connections_per_ip = -1 # off`, "msg=stopped"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q:\n%s", want, out)
		}
	}
	for _, bad := range []string{key, "PingInterval:", "err=<nil>", "open-file limit is below"} {
		if strings.Contains(out, bad) {
			t.Errorf("the log shows %q:\n%s", bad, out)
		}
	}
	if n := strings.Count(out, "gomaxprocs="); n != 1 {
		t.Errorf("gomaxprocs logged %d times; want once:\n%s", n, out)
	}
}

// TestVersionFromBuildInfo: a plain go build (no -ldflags) reports the
// module's version or the VCS revision it was built from, not "dev".
func TestVersionFromBuildInfo(t *testing.T) {
	out, err := exec.Command(proctest.Build(t), "-version").CombinedOutput()
	if err != nil {
		t.Fatalf("-version: %v %s", err, out)
	}
	if strings.Contains(string(out), " dev ") {
		t.Fatalf("-version says %q", out)
	}
	if !regexp.MustCompile(`^wsfan \S+ .*go1\.\d+`).Match(out) {
		t.Fatalf("-version says %q; want wsfan <version> ... <go version>", out)
	}
}

// TestCheckConfigShowsEveryKey: -check-config prints every key, empty ones
// too, and says which -1 values mean off.
func TestCheckConfigShowsEveryKey(t *testing.T) {
	bin := proctest.Build(t)
	cfg := proctest.WriteConfig(t, "publish_keys = [\"check-config-key-0123456789\"]\n")
	out, err := exec.Command(bin, "-check-config", "-config", cfg).CombinedOutput()
	if err != nil {
		t.Fatalf("-check-config: %v\n%s", err, out)
	}
	for _, want := range []string{`cert_file = ""`, "allowed_origins = []", `max_connections_per_ip = -1 # off`,
		`new_connections_per_ip_per_second = -1.0 # off`, `max_reconnects = -1 # forever`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("-check-config lacks %q:\n%s", want, out)
		}
	}
}

// TestBuiltInDefaults: without -config and without a config.toml in the
// working directory, wsfan runs on its built-in defaults and says so; a
// -config naming a missing file is an error that says how to run without
// one.
func TestBuiltInDefaults(t *testing.T) {
	bin := proctest.Build(t)
	cmd := exec.Command(bin, "-check-config")
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "built-in defaults") || !strings.Contains(string(out), `listen = "0.0.0.0:8080"`) {
		t.Fatalf("-check-config without a file: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "-check-config", "-config", "/nonexistent/wsfan.toml").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), `-config ""`) {
		t.Fatalf("a missing -config file: %v\n%s", err, out)
	}
}
