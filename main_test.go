package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// buildBinary builds wsfan into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "wsfan")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	return bin
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheckConfigAndVersion(t *testing.T) {
	bin := buildBinary(t)
	out, err := exec.Command(bin, "-version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "wsfan ") {
		t.Fatalf("-version: %v %s", err, out)
	}
	out, err = exec.Command(bin, "-check-config", "-config", "config.toml").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "index_shards = 16") || strings.Contains(string(out), "dev-only-publish-key") {
		t.Fatalf("-check-config on the shipped config: %v\n%s", err, out)
	}
	bad := writeConfig(t, "index_shards = 10\n")
	out, err = exec.Command(bin, "-check-config", "-config", bad).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), "index_shards") {
		t.Fatalf("-check-config on a bad file: %v\n%s", err, out)
	}
}

func TestSIGTERMDrainsAndExitsZero(t *testing.T) {
	bin := buildBinary(t)
	pub, admin := freeAddr(t), freeAddr(t)
	cfg := writeConfig(t, fmt.Sprintf(`listen = %q
admin_listen = %q
publish_keys = ["sigterm-test-key-0123456789"]
drain_period = "200ms"
shutdown_timeout = "10s"
`, pub, admin))
	cmd := exec.Command(bin, "-config", cfg)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + admin + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not healthy: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}

	reader, _, err := websocket.DefaultDialer.Dial("ws://"+pub+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	// mute never reads, so it never answers the close: the drain must
	// still finish (the socket is closed after a grace period).
	mute, _, err := websocket.DefaultDialer.Dial("ws://"+pub+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer mute.Close()

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = reader.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _, err = reader.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 1001 || ce.Text != "shutdown" {
		t.Fatalf("reader got %v; want close 1001 \"shutdown\"", err)
	}
	// Still draining (mute is connected): health says 503.
	resp, err := http.Get("http://" + admin + "/healthz")
	if err != nil {
		t.Fatalf("healthz while draining: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Fatalf("healthz while draining = %d %s; want 503", resp.StatusCode, b)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("wsfan exited with %v; want 0", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("wsfan did not exit within shutdown_timeout")
	}
}
