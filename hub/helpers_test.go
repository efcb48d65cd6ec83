package hub

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"wsfan/config"
	"wsfan/conn"
	"wsfan/limits"
	"wsfan/ws/wstest"
)

// nopHandler ignores what detached connections would report.
type nopHandler struct{}

func (nopHandler) Message(*conn.Conn, byte, []byte) {}
func (nopHandler) Ping(*conn.Conn, []byte)          {}
func (nopHandler) Closed(*conn.Conn, conn.Subs)     {}

// newTestHub returns a hub with history on hist (nil: off) and an Env of
// running writers for detached connections.
func newTestHub(tb testing.TB, hist []string) (*Hub, *conn.Env) {
	tb.Helper()
	return newTestHubWith(tb, func(cfg *config.Config) { cfg.History.Channels = hist })
}

// newTestHubWith is newTestHub with mutate adjusting the configuration.
func newTestHubWith(tb testing.TB, mutate func(*config.Config)) (*Hub, *conn.Env) {
	tb.Helper()
	cfg := config.Default()
	mutate(cfg)
	set := metrics.NewSet()
	h := New(cfg, set, slog.New(slog.NewTextHandler(io.Discard, nil)))
	env := conn.NewEnv(conn.Config{
		MaxPendingBytes: cfg.MaxPendingBytes,
		MaxMessageBytes: cfg.MaxMessageBytes,
		Commands:        limits.NewCommandLimiter(cfg.Limits),
	}, 2, nopHandler{}, set)
	env.Start()
	tb.Cleanup(env.Stop)
	return h, env
}

// recorder is a detached connection's socket: it keeps every byte written.
type recorder struct {
	net.Conn
	mu   sync.Mutex
	cond *sync.Cond
	buf  []byte
}

func newRecorder() *recorder {
	r := &recorder{}
	r.cond = sync.NewCond(&r.mu)
	return r
}

func (r *recorder) Write(b []byte) (int, error) {
	r.mu.Lock()
	r.buf = append(r.buf, b...)
	r.mu.Unlock()
	r.cond.Broadcast()
	return len(b), nil
}

// next returns the next server frame's payload decoded as JSON, waiting
// up to 5 s for it.
func (r *recorder) next(t *testing.T) map[string]any {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var f wstest.ServerFrame
	waitCond(t, r.cond, func() bool {
		var err error
		var rest []byte
		if f, rest, err = wstest.SplitFrame(r.buf); err == nil {
			r.buf = rest
		}
		return err == nil
	}, func() string { return fmt.Sprintf("no frame within 5 s; %d bytes pending", len(r.buf)) })
	var m map[string]any
	if err := json.Unmarshal(f.Payload, &m); err != nil {
		t.Fatalf("frame payload %q: %v", f.Payload, err)
	}
	return m
}

// waitCond waits on c, whose lock the caller holds, until done holds; after
// 5 s it fails the test with what().
func waitCond(t *testing.T, c *sync.Cond, done func() bool, what func() string) {
	t.Helper()
	timer := time.AfterFunc(5*time.Second, c.Broadcast)
	defer timer.Stop()
	start := time.Now()
	for !done() {
		if time.Since(start) >= 5*time.Second {
			t.Fatal(what())
		}
		c.Wait()
	}
}

// dial returns a detached connection and what it receives.
func dial(env *conn.Env) (*conn.Conn, *recorder) {
	r := newRecorder()
	return env.NewDetached(r, false), r
}
