package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"wsfan/lib/nettest"
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
	w := startWsfan(t, `publish_keys = ["sigterm-test-key-0123456789"]
drain_period = "200ms"
shutdown_timeout = "10s"
`, os.Stderr)

	reader, _, err := websocket.DefaultDialer.Dial("ws://"+w.pub+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	// mute never reads, so it never answers the close: the drain must
	// still finish (the socket is closed after a grace period).
	mute, _, err := websocket.DefaultDialer.Dial("ws://"+w.pub+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer mute.Close()

	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = reader.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _, err = reader.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 1001 || ce.Text != "shutdown" {
		t.Fatalf("reader got %v; want close 1001 \"shutdown\"", err)
	}
	// Still draining (mute is connected): health says 503.
	resp, err := http.Get("http://" + w.admin + "/healthz")
	if err != nil {
		t.Fatalf("healthz while draining: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Fatalf("healthz while draining = %d %s; want 503", resp.StatusCode, b)
	}
	select {
	case err := <-w.exited:
		if err != nil {
			t.Fatalf("wsfan exited with %v; want 0", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("wsfan did not exit within shutdown_timeout")
	}
}

// wsfanProc is a wsfan process that a test started.
type wsfanProc struct {
	pub, admin string // its listen and admin_listen addresses
	config     string // its config file
	cmd        *exec.Cmd
	exited     chan error // receives cmd.Wait's result
}

// startWsfan builds wsfan and runs it with a config file that puts listen
// and admin_listen on free loopback addresses and then has the lines of
// extra; it returns once the server is healthy. The server logs to log.
func startWsfan(t *testing.T, extra string, log io.Writer) *wsfanProc {
	t.Helper()
	bin := buildBinary(t)
	w := &wsfanProc{pub: nettest.FreeAddr(t), admin: nettest.FreeAddr(t)}
	w.config = writeConfig(t, w.configText(extra))
	w.cmd = exec.Command(bin, "-config", w.config)
	w.cmd.Stderr = log
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.exited = make(chan error, 1)
	go func() { w.exited <- w.cmd.Wait() }()
	t.Cleanup(func() { _ = w.cmd.Process.Kill() })
	if err := nettest.WaitOK("http://"+w.admin+"/healthz", 10*time.Second); err != nil {
		t.Fatalf("server not healthy: %v", err)
	}
	return w
}

// rewriteConfig rewrites w's config file with the same addresses and the
// lines of extra, for a reload.
func (w *wsfanProc) rewriteConfig(t *testing.T, extra string) {
	t.Helper()
	if err := os.WriteFile(w.config, []byte(w.configText(extra)), 0o600); err != nil {
		t.Fatal(err)
	}
}

// configText is a config file for w's addresses and the lines of extra.
func (w *wsfanProc) configText(extra string) string {
	return fmt.Sprintf("listen = %q\nadmin_listen = %q\n%s", w.pub, w.admin, extra)
}

func publishStatus(t *testing.T, admin, key, body string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+admin+"/publish", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestSIGHUPReloadsPublishKeys(t *testing.T) {
	keys := func(key string) string { return fmt.Sprintf("publish_keys = [%q]\n", key) }
	const oldKey, newKey = "old-key-0123456789abcdef", "new-key-0123456789abcdef"
	w := startWsfan(t, keys(oldKey), os.Stderr)

	ws, _, err := websocket.DefaultDialer.Dial("ws://"+w.pub+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"subscribe","data":{"channels":["a.b"]}}`))
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := ws.ReadMessage(); err != nil {
		t.Fatal(err)
	}

	w.rewriteConfig(t, keys(newKey))
	_ = w.cmd.Process.Signal(syscall.SIGHUP)
	deadline := time.Now().Add(10 * time.Second)
	for publishStatus(t, w.admin, newKey, `{"channel":"a.b","data":1}`) != 200 {
		if time.Now().After(deadline) {
			t.Fatal("the new key never worked after SIGHUP")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code := publishStatus(t, w.admin, oldKey, `{"channel":"a.b","data":2}`); code != 401 {
		t.Fatalf("old key after reload: %d; want 401", code)
	}
	// The connection stayed and got the publication made with the new key.
	if _, b, err := ws.ReadMessage(); err != nil || !strings.Contains(string(b), `"data":1`) {
		t.Fatalf("after reload the client read %s, %v", b, err)
	}

	// A bad file is rejected and the running configuration stays.
	w.rewriteConfig(t, keys("short"))
	_ = w.cmd.Process.Signal(syscall.SIGHUP)
	deadline = time.Now().Add(10 * time.Second)
	for !strings.Contains(scrape(t, w.admin), `wsfan_config_reloads_total{result="error"} 1`) {
		if time.Now().After(deadline) {
			t.Fatal("the bad reload was never counted")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code := publishStatus(t, w.admin, newKey, `{"channel":"a.b","data":3}`); code != 200 {
		t.Fatalf("after a bad reload the running key gives %d", code)
	}
	if code := publishStatus(t, w.admin, "short", `{"channel":"a.b","data":4}`); code != 401 {
		t.Fatalf("the bad file's key was applied: %d", code)
	}
}

func scrape(t *testing.T, admin string) string {
	t.Helper()
	resp, err := http.Get("http://" + admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestDrainThousandConnections(t *testing.T) {
	w := startWsfan(t, `publish_keys = ["drain-test-key-0123456789"]
drain_period = "1s"
shutdown_timeout = "8s"
`, os.Stderr)

	const n = 1000
	conns := make([]*websocket.Conn, 0, n)
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	for i := 0; i < n; i++ {
		c, _, err := d.Dial("ws://"+w.pub+"/ws", nil)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	start := time.Now()
	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Every client reads its close frame: 1001 "shutdown". Reading also
	// answers the close, which lets the server finish early.
	type result struct {
		code int
		text string
		at   time.Duration
	}
	results := make(chan result, n)
	for _, c := range conns {
		go func(c *websocket.Conn) {
			_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					var ce *websocket.CloseError
					if errors.As(err, &ce) {
						results <- result{ce.Code, ce.Text, time.Since(start)}
					} else {
						results <- result{0, err.Error(), time.Since(start)}
					}
					return
				}
			}
		}(c)
	}
	var first, last time.Duration
	for i := 0; i < n; i++ {
		r := <-results
		if r.code != 1001 || r.text != "shutdown" {
			t.Fatalf("client got %d %q; want 1001 \"shutdown\"", r.code, r.text)
		}
		if i == 0 {
			first = r.at
		}
		last = r.at
	}
	// The closes are spread over drain_period, not all at once.
	if spread := last - first; spread < 300*time.Millisecond {
		t.Fatalf("closes spread over %v; want them spread over drain_period (1s)", spread)
	}
	select {
	case err := <-w.exited:
		if err != nil {
			t.Fatalf("wsfan exited with %v; want 0", err)
		}
		if took := time.Since(start); took > 8*time.Second {
			t.Fatalf("exit took %v; shutdown_timeout is 8s", took)
		}
	case <-time.After(12 * time.Second):
		t.Fatal("wsfan did not exit")
	}
}
