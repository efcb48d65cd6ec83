package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// target is the server under test: spawned by the run, or already running.
type target struct {
	url, admin string
	pid        int // 0: unknown, no /proc stats
	spawned    bool
	cmd        *exec.Cmd
	dir        string
	exited     chan struct{}
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Targets of -target: the server spawned for a run.
const (
	targetWsfan = "wsfan" // the server, from -server-bin or built from -server-src
	targetRaw   = "raw"   // bench/rawserver, run by this executable with -raw-server
)

// rawServerFlag makes this executable the raw reference server
// (bench/rawserver); it must be the first argument.
const rawServerFlag = "-raw-server"

// spawnServer starts the run's server (o.Target; pinned to o.ServerCPUs)
// on free loopback ports and waits until it is healthy.
func spawnServer(ctx context.Context, o *options) (*target, error) {
	dir, err := os.MkdirTemp("", "wsfan-bench-")
	if err != nil {
		return nil, err
	}
	t := &target{spawned: true, dir: dir, exited: make(chan struct{})}
	fail := func(err error) (*target, error) {
		os.RemoveAll(dir)
		return nil, err
	}
	cpus, err := cpuCount(o.ServerCPUs)
	if err != nil {
		return fail(fmt.Errorf("-server-cpus: %w", err))
	}
	var port, adminPort int
	for port == adminPort {
		if port, err = freePort(); err == nil {
			adminPort, err = freePort()
		}
		if err != nil {
			return fail(fmt.Errorf("cannot find a free port: %w", err))
		}
	}
	var args []string
	switch o.Target {
	case targetRaw:
		exe, err := os.Executable()
		if err != nil {
			return fail(fmt.Errorf("cannot find this executable for the raw server: %w", err))
		}
		args = []string{exe, rawServerFlag, "-listen", fmt.Sprintf("127.0.0.1:%d", port),
			"-admin-listen", fmt.Sprintf("127.0.0.1:%d", adminPort), "-key", o.Key}
	default:
		bin := o.ServerBin
		if bin == "" {
			if bin, err = buildServer(o.ServerSrc, dir); err != nil {
				return fail(err)
			}
		}
		text, err := serverConfig(port, adminPort, cpus, o)
		if err != nil {
			return fail(err)
		}
		cfg := filepath.Join(dir, "config.toml")
		if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
			return fail(err)
		}
		args = []string{bin, "-config", cfg}
	}
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return fail(err)
	}
	defer logf.Close()
	if o.ServerCPUs != "" {
		args = append([]string{"taskset", "-c", o.ServerCPUs}, args...) // taskset execs: the pid is the server's
	}
	t.cmd = exec.Command(args[0], args[1:]...)
	t.cmd.Stdout, t.cmd.Stderr = logf, logf
	if err := t.cmd.Start(); err != nil {
		return fail(fmt.Errorf("cannot start the server: %w", err))
	}
	go func() { _ = t.cmd.Wait(); close(t.exited) }()
	t.pid = t.cmd.Process.Pid
	t.url = fmt.Sprintf("ws://127.0.0.1:%d/ws", port)
	t.admin = fmt.Sprintf("http://127.0.0.1:%d", adminPort)
	if err := t.waitHealthy(ctx, 15*time.Second); err != nil {
		t.stop()
		return nil, err
	}
	return t, nil
}

func (t *target) waitHealthy(ctx context.Context, within time.Duration) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		select {
		case <-t.exited:
			return fmt.Errorf("the server exited at start:\n%s", t.logTail())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		resp, err := http.Get(t.admin + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("the server was not healthy within %v:\n%s", within, t.logTail())
}

// alive reports whether a spawned server still runs.
func (t *target) alive() bool {
	if !t.spawned {
		return true
	}
	select {
	case <-t.exited:
		return false
	default:
		return true
	}
}

func (t *target) logTail() string {
	if t.dir == "" {
		return ""
	}
	b, _ := os.ReadFile(filepath.Join(t.dir, "server.log"))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// stop sends SIGTERM to a spawned server, kills it after 10 s, and removes
// its directory. It does nothing to a server the run did not start.
func (t *target) stop() error {
	if !t.spawned || t.cmd == nil {
		return nil
	}
	defer os.RemoveAll(t.dir)
	_ = t.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-t.exited:
	case <-time.After(10 * time.Second):
		_ = t.cmd.Process.Kill()
		<-t.exited
		return errors.New("the server did not stop within 10 s of SIGTERM; killed")
	}
	return nil
}
