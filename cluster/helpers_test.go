package cluster

import (
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"wsfan/codec"
)

// waitFor is the deadline of every wait in these tests.
const waitFor = 10 * time.Second

// runServer starts an embedded NATS server on 127.0.0.1; port -1 picks a
// free one. It is shut down when the test ends.
func runServer(t testing.TB, port int) *server.Server {
	t.Helper()
	return startServer(t, &server.Options{
		Port:            port,
		NoSystemAccount: true, // NumSubscriptions counts only ours
	})
}

// startServer starts an embedded NATS server with opts on 127.0.0.1,
// without logs or signal handlers, and shuts it down when the test ends
// (Shutdown may be called earlier).
func startServer(t testing.TB, opts *server.Options) *server.Server {
	t.Helper()
	opts.Host, opts.NoLog, opts.NoSigs = "127.0.0.1", true, true
	ns, err := server.NewServer(opts)
	if err != nil {
		t.Fatalf("cannot create NATS server: %v", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(waitFor) {
		ns.Shutdown()
		t.Fatalf("NATS server on port %d not ready", opts.Port)
	}
	t.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	return ns
}

func serverPort(ns *server.Server) int {
	return ns.Addr().(*net.TCPAddr).Port
}

// delivery is one Deliver call, its data copied.
type delivery struct {
	channel string
	data    string
}

// recorder is a Deliver that queues every call on a channel.
type recorder struct {
	c chan delivery
}

func newRecorder() *recorder {
	return &recorder{c: make(chan delivery, 1<<16)}
}

func (r *recorder) deliver(channel string, data []byte) {
	r.c <- delivery{channel, string(data)}
}

// next returns the next delivery or fails the test at the deadline.
func (r *recorder) next(t testing.TB) delivery {
	t.Helper()
	select {
	case d := <-r.c:
		return d
	case <-time.After(waitFor):
		t.Fatalf("no delivery within %v", waitFor)
		return delivery{}
	}
}

// expect reads the next delivery and checks it.
func (r *recorder) expect(t testing.TB, channel, data string) {
	t.Helper()
	if d := r.next(t); d.channel != channel || d.data != data {
		t.Fatalf("delivery = %s %s; want %s %s", d.channel, d.data, channel, data)
	}
}

// none checks that nothing is queued: call it after a delivery that NATS
// ordering puts after anything unwanted.
func (r *recorder) none(t testing.TB) {
	t.Helper()
	select {
	case d := <-r.c:
		t.Fatalf("unexpected delivery %s %s", d.channel, d.data)
	default:
	}
}

// testConfig is a configuration for ns with fast reconnects.
func testConfig(ns *server.Server, interest string) Config {
	return Config{
		URLs:           []string{ns.ClientURL()},
		SubjectPrefix:  "odin.",
		Interest:       interest,
		PublishTimeout: 2 * time.Second,
		ReconnectWait:  20 * time.Millisecond,
	}
}

// connect returns a bridge closed when the test ends.
func connect(t testing.TB, cfg Config, deliver Deliver) *Bridge {
	t.Helper()
	if deliver == nil {
		deliver = func(string, []byte) {}
	}
	b, err := Connect(cfg, deliver, testLogger(t))
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// flush waits until the server has processed what b sent.
func flush(t testing.TB, b *Bridge) {
	t.Helper()
	if err := b.Flush(waitFor); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

// plainConn is a nats.go connection that is not a bridge.
func plainConn(t testing.TB, ns *server.Server) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatalf("nats.Connect: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func pub(channel, data string) codec.Publication {
	return codec.Publication{Channel: channel, Data: []byte(data)}
}

// poll waits until cond holds, for state that nothing signals.
func poll(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// testLogger writes to the test log when -v is given.
func testLogger(t testing.TB) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// listening connects a per-channel bridge to ns that records what it is
// handed, holding channels (its interest flushed to the server).
func listening(t *testing.T, ns *server.Server, channels ...string) (*Bridge, *recorder) {
	t.Helper()
	rec := newRecorder()
	b := connect(t, testConfig(ns, InterestPerChannel), rec.deliver)
	for _, ch := range channels {
		b.Interest(ch, +1)
	}
	if len(channels) > 0 {
		flush(t, b)
	}
	return b, rec
}
