package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"wsfan/config"
)

const testKey = "test-publish-key-0123456789"

// startServer starts a server on loopback ports chosen by the kernel and
// drains it when the test ends. mutate may adjust the configuration.
func startServer(t testing.TB, mutate func(*config.Config)) *Server {
	t.Helper()
	return startServerWith(t, mutate, nil)
}

// startServerWith is startServer with a hook that adjusts the server
// between New and Start.
func startServerWith(t testing.TB, mutate func(*config.Config), before func(*Server)) *Server {
	t.Helper()
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.AdminListen = "127.0.0.1:0"
	cfg.PublishKeys = []string{testKey}
	cfg.DrainPeriod = 50 * time.Millisecond
	cfg.ShutdownTimeout = 5 * time.Second
	derived := cfg.MaxChannelsPerCommand
	if mutate != nil {
		mutate(cfg)
	}
	if cfg.MaxChannelsPerCommand == derived { // follow max_pending_bytes and max_subscriptions_per_conn
		cfg.MaxChannelsPerCommand = 0
		cfg.ApplyDefaults()
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("test config: %v", err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := New(cfg, log)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if before != nil {
		before(s)
	}
	if err := s.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() { // what the server saw helps to read a failure
			var b strings.Builder
			s.set.WritePrometheus(&b)
			for _, line := range strings.Split(b.String(), "\n") {
				if !strings.HasPrefix(line, "#") && (strings.Contains(line, "rejected") || strings.Contains(line, "disconnects") || strings.Contains(line, "wsfan_connections ")) {
					t.Log(line)
				}
			}
		}
		if s.Draining() {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	return s
}

// wsClient is a test WebSocket client (gorilla) with JSON helpers.
type wsClient struct {
	t    testing.TB
	conn *websocket.Conn
}

func dial(t testing.TB, s *Server) *wsClient {
	t.Helper()
	return dialWith(t, websocket.Dialer{HandshakeTimeout: 5 * time.Second}, "ws://"+s.PublicAddr()+"/ws")
}

// dialWith connects with d to url; the connection is closed when the test
// ends.
func dialWith(t testing.TB, d websocket.Dialer, url string) *wsClient {
	t.Helper()
	conn, resp, err := d.Dial(url, nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial: %v (HTTP %d)", err, status)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &wsClient{t: t, conn: conn}
}

func (c *wsClient) send(s string) {
	c.t.Helper()
	if err := c.conn.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// frame is every server frame's fields, decoded loosely.
type frame struct {
	Type         string          `json:"type"`
	ID           string          `json:"id"`
	Channel      string          `json:"channel"`
	Seq          uint64          `json:"seq"`
	TS           int64           `json:"ts"`
	Data         json.RawMessage `json:"data"`
	Subscribed   []string        `json:"subscribed"`
	Unsubscribed []string        `json:"unsubscribed"`
	Rejected     []struct {
		Channel, Code, Message string
	} `json:"rejected"`
	Count     *int `json:"count"`
	Positions []struct {
		Channel, Epoch string
		Seq            uint64
	} `json:"positions"`
	Recovered *bool  `json:"recovered"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	raw       []byte
}

// read returns the next server frame, failing the test after 5 s.
func (c *wsClient) read() frame {
	c.t.Helper()
	f, err := c.tryRead(5 * time.Second)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return f
}

func (c *wsClient) tryRead(timeout time.Duration) (frame, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(timeout))
	mt, b, err := c.conn.ReadMessage()
	if err != nil {
		return frame{}, err
	}
	if mt != websocket.TextMessage {
		return frame{}, fmt.Errorf("message type %d; want text", mt)
	}
	var f frame
	if err := json.Unmarshal(b, &f); err != nil {
		return frame{}, fmt.Errorf("server sent invalid JSON %q: %v", b, err)
	}
	f.raw = b
	return f, nil
}

// expect reads one frame and checks its type.
func (c *wsClient) expect(typ string) frame {
	c.t.Helper()
	f := c.read()
	if f.Type != typ {
		c.t.Fatalf("got frame %s; want type %q", f.raw, typ)
	}
	return f
}

// subscribe subscribes to channels and returns the ack.
func (c *wsClient) subscribe(id string, channels ...string) frame {
	c.t.Helper()
	b, _ := json.Marshal(map[string]any{"type": "subscribe", "id": id, "data": map[string]any{"channels": channels}})
	c.send(string(b))
	return c.expect("subscription_ack")
}

// closeCode reads until the connection closes and returns the close code
// and reason the server sent (1006 when it sent none).
func (c *wsClient) closeCode(timeout time.Duration) (int, string) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	_ = c.conn.SetReadDeadline(deadline)
	for {
		_, _, err := c.conn.ReadMessage()
		if err == nil {
			continue
		}
		if ce, ok := err.(*websocket.CloseError); ok {
			return ce.Code, ce.Text
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("no close within %v: %v", timeout, err)
		}
		return websocket.CloseAbnormalClosure, err.Error()
	}
}

// publish POSTs body to /publish with the test key and returns the status
// and body.
func publish(t testing.TB, s *Server, body string) (int, string) {
	t.Helper()
	return publishWithKey(t, s, testKey, body)
}

func publishWithKey(t testing.TB, s *Server, key, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+s.AdminAddr()+"/publish", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func mustPublish(t testing.TB, s *Server, body string) {
	t.Helper()
	if code, resp := publish(t, s, body); code != 200 {
		t.Fatalf("publish %s: HTTP %d %s", body, code, resp)
	}
}

// waitFor polls cond until it holds or 10 s pass. It is for state that has
// no signal to wait on (counters updated by other goroutines).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func httpGet(t testing.TB, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// counter returns the value of the counter name in s's metrics (0 when
// it is not there).
func counter(s *Server, name string) uint64 {
	var b strings.Builder
	s.set.WritePrometheus(&b)
	for _, line := range strings.Split(b.String(), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			n, _ := strconv.ParseUint(v, 10, 64)
			return n
		}
	}
	return 0
}

// members returns the number of subscribers a publication to channel
// reaches through its own entry (not through patterns).
func members(s *Server, channel string) int {
	ch := s.hub.Index().Lookup(channel).Channel
	if ch == nil {
		return 0
	}
	ch.Lock()
	defer ch.Unlock()
	return ch.Len()
}
