package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"wsfan/lib/proctest"
)

func TestCheckConfigAndVersion(t *testing.T) {
	bin := proctest.Build(t)
	out, err := exec.Command(bin, "-version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "wsfan ") {
		t.Fatalf("-version: %v %s", err, out)
	}
	out, err = exec.Command(bin, "-check-config", "-config", "config.toml").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "index_shards = 16") || strings.Contains(string(out), "dev-only-publish-key") {
		t.Fatalf("-check-config on the shipped config: %v\n%s", err, out)
	}
	bad := proctest.WriteConfig(t, "index_shards = 10\n")
	out, err = exec.Command(bin, "-check-config", "-config", bad).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), "index_shards") {
		t.Fatalf("-check-config on a bad file: %v\n%s", err, out)
	}
}

func TestSIGTERMDrainsAndExitsZero(t *testing.T) {
	w := proctest.Start(t, proctest.Build(t), `publish_keys = ["sigterm-test-key-0123456789"]
drain_period = "200ms"
shutdown_timeout = "10s"
`, os.Stderr)

	reader, _, err := websocket.DefaultDialer.Dial("ws://"+w.Public+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	// mute never reads, so it never answers the close: the drain must
	// still finish (the socket is closed after a grace period).
	mute, _, err := websocket.DefaultDialer.Dial("ws://"+w.Public+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer mute.Close()

	if err := w.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = reader.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _, err = reader.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 1001 || ce.Text != "shutdown" {
		t.Fatalf("reader got %v; want close 1001 \"shutdown\"", err)
	}
	// Still draining (mute is connected): health says 503.
	resp, err := http.Get("http://" + w.Admin + "/healthz")
	if err != nil {
		t.Fatalf("healthz while draining: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Fatalf("healthz while draining = %d %s; want 503", resp.StatusCode, b)
	}
	select {
	case err := <-w.Exited:
		if err != nil {
			t.Fatalf("wsfan exited with %v; want 0", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("wsfan did not exit within shutdown_timeout")
	}
}

func TestSIGHUPReloadsPublishKeys(t *testing.T) {
	keys := func(key string) string { return fmt.Sprintf("publish_keys = [%q]\n", key) }
	const oldKey, newKey = "old-key-0123456789abcdef", "new-key-0123456789abcdef"
	w := proctest.Start(t, proctest.Build(t), keys(oldKey), os.Stderr)

	ws, _, err := websocket.DefaultDialer.Dial("ws://"+w.Public+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"subscribe","data":{"channels":["a.b"]}}`))
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := ws.ReadMessage(); err != nil {
		t.Fatal(err)
	}

	w.Rewrite(t, keys(newKey))
	_ = w.Cmd.Process.Signal(syscall.SIGHUP)
	deadline := time.Now().Add(10 * time.Second)
	for w.Publish(t, newKey, `{"channel":"a.b","data":1}`) != 200 {
		if time.Now().After(deadline) {
			t.Fatal("the new key never worked after SIGHUP")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code := w.Publish(t, oldKey, `{"channel":"a.b","data":2}`); code != 401 {
		t.Fatalf("old key after reload: %d; want 401", code)
	}
	// The connection stayed and got the publication made with the new key.
	if _, b, err := ws.ReadMessage(); err != nil || !strings.Contains(string(b), `"data":1`) {
		t.Fatalf("after reload the client read %s, %v", b, err)
	}

	// A bad file is rejected and the running configuration stays.
	w.Rewrite(t, keys("short"))
	_ = w.Cmd.Process.Signal(syscall.SIGHUP)
	deadline = time.Now().Add(10 * time.Second)
	for w.Metrics(t)[`wsfan_config_reloads_total{result="error"}`] != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the bad reload was never counted")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code := w.Publish(t, newKey, `{"channel":"a.b","data":3}`); code != 200 {
		t.Fatalf("after a bad reload the running key gives %d", code)
	}
	if code := w.Publish(t, "short", `{"channel":"a.b","data":4}`); code != 401 {
		t.Fatalf("the bad file's key was applied: %d", code)
	}
}

func TestDrainThousandConnections(t *testing.T) {
	w := proctest.Start(t, proctest.Build(t), `publish_keys = ["drain-test-key-0123456789"]
drain_period = "1s"
shutdown_timeout = "8s"
`, os.Stderr)

	const n = 1000
	conns := make([]*websocket.Conn, 0, n)
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	for i := 0; i < n; i++ {
		c, _, err := d.Dial("ws://"+w.Public+"/ws", nil)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	start := time.Now()
	if err := w.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
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
	case err := <-w.Exited:
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
