package cluster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
)

// testHeartbeat is the consumer heartbeat in tests: a lost consumer is
// noticed within 3 of them.
const testHeartbeat = 200 * time.Millisecond

// runJetStream starts an embedded NATS server with JetStream, its file store
// in dir; port -1 picks a free one. It is shut down when the test ends
// (Shutdown may be called earlier).
func runJetStream(t testing.TB, port int, dir string) *server.Server {
	t.Helper()
	return startServer(t, &server.Options{Port: port, JetStream: true, StoreDir: dir})
}

// jsConfig is a configuration for ns with stream WSFAN on "odin.>". Its
// per-channel limit is far above what the tests publish on a channel, so
// that a node slowed down by the machine does not fall behind by more than
// that (and skip what was evicted) unless a test means it.
func jsConfig(ns *server.Server) Config {
	c := testConfig(ns, InterestAll)
	c.JetStream = JetStreamConfig{Stream: "WSFAN", MaxAge: time.Minute, MaxMsgsPerChannel: 10000}
	return c
}

// openStream connects a Stream closed when the test ends.
func openStream(t testing.TB, cfg Config, deliver DeliverSeq) *Stream {
	t.Helper()
	if deliver == nil {
		deliver = func(string, uint64, int64, []byte) {}
	}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s, err := connectStream(cfg, deliver, testLogger(t), testHeartbeat)
	if err != nil {
		t.Fatalf("ConnectStream: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// seqDelivery is one DeliverSeq call, its data copied.
type seqDelivery struct {
	channel string
	seq     uint64
	ts      int64
	data    string
}

func (d seqDelivery) String() string { return fmt.Sprintf("%s#%d=%s", d.channel, d.seq, d.data) }

// seqRecorder is a DeliverSeq that keeps every call.
type seqRecorder struct {
	mu   sync.Mutex
	got  []seqDelivery
	cond *sync.Cond
}

func newSeqRecorder() *seqRecorder {
	r := &seqRecorder{}
	r.cond = sync.NewCond(&r.mu)
	return r
}

func (r *seqRecorder) deliver(channel string, seq uint64, ts int64, data []byte) {
	r.mu.Lock()
	r.got = append(r.got, seqDelivery{channel, seq, ts, string(data)})
	r.mu.Unlock()
	r.cond.Broadcast()
}

// waitFor waits until cond holds on the deliveries so far, or fails the
// test at the deadline. Every delivery signals the recorder.
func (r *seqRecorder) waitFor(t testing.TB, what string, cond func([]seqDelivery) bool) []seqDelivery {
	t.Helper()
	timer := time.AfterFunc(waitFor, r.cond.Broadcast)
	defer timer.Stop()
	deadline := time.Now().Add(waitFor)
	r.mu.Lock()
	defer r.mu.Unlock()
	for !cond(r.got) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; have %d deliveries", what, len(r.got))
		}
		r.cond.Wait()
	}
	return slices.Clone(r.got)
}

// waitData waits until a delivery with data arrived.
func (r *seqRecorder) waitData(t testing.TB, data string) []seqDelivery {
	t.Helper()
	return r.waitFor(t, "delivery "+data, func(got []seqDelivery) bool {
		return slices.ContainsFunc(got, func(d seqDelivery) bool { return d.data == data })
	})
}

// byChannel splits deliveries by channel, in order.
func byChannel(got []seqDelivery) map[string][]seqDelivery {
	m := map[string][]seqDelivery{}
	for _, d := range got {
		m[d.channel] = append(m[d.channel], d)
	}
	return m
}

// channelsString is got's deliveries on each of channels, a line each: two
// nodes that delivered alike have the same.
func channelsString(got []seqDelivery, channels []string) string {
	var b strings.Builder
	by := byChannel(got)
	for _, ch := range channels {
		fmt.Fprintln(&b, by[ch])
	}
	return b.String()
}

// checkConsecutive fails unless each channel's seqs are consecutive and
// its data are distinct.
func checkConsecutive(t testing.TB, who string, got []seqDelivery) {
	t.Helper()
	for ch, ds := range byChannel(got) {
		seen := map[string]bool{}
		for i, d := range ds {
			if i > 0 && d.seq != ds[i-1].seq+1 {
				t.Fatalf("%s: %s: seq %d after %d", who, ch, d.seq, ds[i-1].seq)
			}
			if seen[d.data] {
				t.Fatalf("%s: %s: %s delivered twice", who, ch, d.data)
			}
			seen[d.data] = true
		}
	}
}

// jsPlain is a plain nats.go JetStream publisher (no seq header).
func jsPlain(t testing.TB, ns *server.Server) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(plainConn(t, ns))
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// plainPublish stores data on channel with a plain JetStream publish.
func plainPublish(t testing.TB, js jetstream.JetStream, channel, data string) uint64 {
	t.Helper()
	ack, err := js.Publish(context.Background(), "odin."+channel, []byte(data))
	if err != nil {
		t.Fatalf("plain publish: %v", err)
	}
	return ack.Sequence
}

// publishOne publishes one publication and fails the test on error.
func publishOne(t testing.TB, s *Stream, channel, data string) {
	t.Helper()
	if err := s.Publish(context.Background(), []Pub{{Channel: channel, Data: []byte(data)}}); err != nil {
		t.Fatalf("Publish %s %s: %v", channel, data, err)
	}
}

// datas returns the data of deliveries or messages, joined by spaces.
func datas[T seqDelivery | Msg](xs []T) string {
	var b strings.Builder
	for i, x := range xs {
		if i > 0 {
			b.WriteByte(' ')
		}
		switch v := any(x).(type) {
		case seqDelivery:
			b.WriteString(v.data)
		case Msg:
			b.Write(v.Data)
		}
	}
	return b.String()
}

// streamInfo reads the stream's info through a plain connection.
func streamInfo(t testing.TB, ns *server.Server) *jetstream.StreamInfo {
	t.Helper()
	js := jsPlain(t, ns)
	st, err := js.Stream(context.Background(), "WSFAN")
	if err != nil {
		t.Fatal(err)
	}
	return st.CachedInfo()
}
