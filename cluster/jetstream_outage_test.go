package cluster

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestStreamOutage: while two nodes keep publishing, a third node is killed,
// the NATS server is stopped and started again on the same port and store,
// and the third node is started again. Publishing fails with ErrUnavailable
// during the outage (never nil for something not stored); the nodes report
// that they catch up; afterwards the two nodes have delivered every
// acknowledged publication (and anything else stored) once, in seq order,
// with the same seqs; and a client of the killed node that recovers on its
// successor with Since, then takes the successor's live deliveries, has
// exactly the same.
func TestStreamOutage(t *testing.T) {
	dir := t.TempDir()
	ns := runJetStream(t, -1, dir)
	port := serverPort(ns)
	cfg := jsConfig(ns)
	cfg.JetStream.MaxMsgsPerChannel = 1000 // the killed node's absence fits
	channels := []string{"token.BTC.trade", "token.ETH.trade"}
	recs := []*seqRecorder{newSeqRecorder(), newSeqRecorder(), newSeqRecorder()}
	streams := make([]*Stream, 3)
	for i := range streams {
		streams[i] = openStream(t, cfg, recs[i].deliver)
	}
	epoch := streams[0].Epoch()

	var (
		mu     sync.Mutex
		acked  []string // data of publications Publish acknowledged
		failed int
		stop   = make(chan struct{})
		wg     sync.WaitGroup
		ctx    = context.Background()
		// Closed after a node's first success, and after its tenth
		// success following the outage.
		started = []chan struct{}{make(chan struct{}), make(chan struct{})}
		after   = []chan struct{}{make(chan struct{}), make(chan struct{})}
	)
	for n, s := range streams[:2] {
		wg.Go(func() {
			outage, since := false, 0
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				d := fmt.Sprintf(`"n%d-%d"`, n, i)
				pubs := []Pub{{Channel: channels[i%2], Data: []byte(d), ID: d}}
				if i%3 == 0 {
					d2 := fmt.Sprintf(`"n%d-%d-b"`, n, i)
					pubs = append(pubs, Pub{Channel: channels[(i+1)%2], Data: []byte(d2)})
				}
				err := s.Publish(ctx, pubs)
				mu.Lock()
				switch {
				case err == nil:
					for _, p := range pubs {
						acked = append(acked, string(p.Data))
					}
				case errors.Is(err, ErrUnavailable):
					failed++
				default:
					t.Errorf("node %d: Publish: %v; want nil or ErrUnavailable", n, err)
				}
				mu.Unlock()
				switch {
				case err == nil && i == 0:
					close(started[n])
				case err == nil && outage:
					if since++; since == 10 {
						close(after[n])
					}
				case err != nil:
					outage = true
					time.Sleep(5 * time.Millisecond) // a publisher's backoff before retrying
				}
			}
		})
	}
	for _, c := range started {
		<-c
	}

	// Node 2 dies; its client keeps what it received.
	killed := streams[2]
	killed.Close()
	client := recs[2].waitFor(t, "node 2's deliveries", func([]seqDelivery) bool { return true })
	mu.Lock()
	n0 := len(acked)
	mu.Unlock()
	poll(t, "30 publications while node 2 is gone", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= n0+30
	})

	ns.Shutdown()
	ns.WaitForShutdown()
	for n, s := range streams[:2] {
		poll(t, "the outage to be noticed", func() bool { return !s.Connected() })
		if !s.CatchingUp() || !strings.HasPrefix(s.Status(), "reconnecting") {
			t.Fatalf("node %d during the outage: CatchingUp %v, Status %q", n, s.CatchingUp(), s.Status())
		}
	}
	err := streams[0].Publish(ctx, []Pub{{Channel: "during", Data: []byte(`1`)}})
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Publish during the outage: %v", err)
	}
	runJetStream(t, port, dir)

	// Node 2 again, and its client's recovery: Since from its last seq of
	// each channel, then the live deliveries after what Since returned.
	r2 := newSeqRecorder()
	successor := openStream(t, cfg, r2.deliver)
	last := map[string]uint64{}
	for _, d := range client {
		last[d.channel] = d.seq
	}
	for _, ch := range channels {
		msgs, ok, err := successor.Since(ctx, ch, last[ch], 0)
		if err != nil || !ok {
			t.Fatalf("Since(%s, %d) on the successor: %v, %v", ch, last[ch], ok, err)
		}
		for _, m := range msgs {
			client = append(client, seqDelivery{ch, m.Seq, m.TS, string(m.Data)})
			last[ch] = m.Seq
		}
	}
	recovered := len(client)

	for _, c := range after {
		<-c
	}
	close(stop)
	wg.Wait()

	// Everything stored, acknowledged or not, is delivered: an end marker
	// published last on each channel is delivered after all of it.
	for _, ch := range channels {
		publishOne(t, streams[0], ch, `"end-`+ch+`"`)
	}
	ends := func(d []seqDelivery) bool {
		n := 0
		for _, x := range d {
			if strings.HasPrefix(x.data, `"end-`) {
				n++
			}
		}
		return n == len(channels)
	}
	for _, d := range r2.waitFor(t, "the end markers on the successor", ends) {
		if d.seq > last[d.channel] { // replay before live: the rest is a duplicate
			client = append(client, d)
		}
	}
	var want string
	for n, got := range [][]seqDelivery{
		recs[0].waitFor(t, "the end markers", ends),
		recs[1].waitFor(t, "the end markers", ends),
		client,
	} {
		who := fmt.Sprintf("node %d", n)
		if n == 2 {
			who = "node 2's client"
		}
		checkConsecutive(t, who, got)
		have := map[string]bool{}
		for _, d := range got {
			have[d.data] = true
		}
		for _, d := range acked {
			if !have[d] {
				t.Fatalf("%s: acknowledged %s not delivered", who, d)
			}
		}
		if s := channelsString(got, channels); n == 0 {
			want = s
		} else if s != want {
			t.Fatalf("%s has\n%s\nnode 0 has\n%s", who, s, want)
		}
	}
	for n, s := range []*Stream{streams[0], streams[1], successor} {
		if s.Epoch() != epoch {
			t.Fatalf("node %d: epoch %q; was %q", n, s.Epoch(), epoch)
		}
	}
	if streams[0].Stats().Resets == 0 {
		t.Fatalf("node 0 did not re-create its consumer: %+v", streams[0].Stats())
	}
	poll(t, "catching up to end", func() bool { return !streams[0].CatchingUp() && !streams[1].CatchingUp() })
	t.Logf("%d publications acknowledged, %d publishes failed during the outage; the client recovered %d, then %d live",
		len(acked), failed, recovered-len(recs[2].got), len(client)-recovered)
}

// TestStreamConsumerLost: when the server loses the node's consumer (here
// deleted by hand), the node notices the silence and resumes after what it
// delivered: nothing lost, nothing twice.
func TestStreamConsumerLost(t *testing.T) {
	ns := runJetStream(t, -1, t.TempDir())
	r := newSeqRecorder()
	s := openStream(t, jsConfig(ns), r.deliver)
	pub := openStream(t, jsConfig(ns), nil)
	publishOne(t, pub, "c", `1`)
	r.waitData(t, `1`)
	js := jsPlain(t, ns)
	ctx := context.Background()
	st, err := js.Stream(ctx, "WSFAN")
	if err != nil {
		t.Fatal(err)
	}
	// Delete every consumer (pub's too), then publish while the nodes
	// have none.
	for name := range st.ConsumerNames(ctx).Name() {
		if err := st.DeleteConsumer(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	for i := 2; i <= 5; i++ {
		publishOne(t, pub, "c", fmt.Sprint(i))
	}
	got := r.waitData(t, `5`)
	if fmt.Sprint(got) != "[c#1=1 c#2=2 c#3=3 c#4=4 c#5=5]" {
		t.Fatalf("got %v", got)
	}
	if s.Stats().Resets == 0 {
		t.Fatalf("stats %+v", s.Stats())
	}
}

// TestStreamRecreated: a stream deleted while nodes run is recreated by the
// first node that notices, under a new epoch, and delivery goes on.
func TestStreamRecreated(t *testing.T) {
	ns := runJetStream(t, -1, t.TempDir())
	r := newSeqRecorder()
	s := openStream(t, jsConfig(ns), r.deliver)
	publishOne(t, s, "c", `1`)
	r.waitData(t, `1`)
	old := s.Epoch()
	js := jsPlain(t, ns)
	if err := js.DeleteStream(context.Background(), "WSFAN"); err != nil {
		t.Fatal(err)
	}
	poll(t, "a new epoch", func() bool { return s.Epoch() != old })
	publishOne(t, s, "c", `2`)
	got := r.waitData(t, `2`)
	if len(got) != 2 || got[1].seq != 1 {
		t.Fatalf("got %v: the new stream's numbering starts again", got)
	}
}

// TestStreamGoroutines: Close ends every goroutine the streams started
// (theirs and nats.go's; the embedded server's are not counted).
func TestStreamGoroutines(t *testing.T) {
	ns := runJetStream(t, -1, t.TempDir())
	if n := clientGoroutines(); n != 0 {
		t.Fatalf("%d client goroutines before the test", n)
	}
	r := newSeqRecorder()
	a, err := ConnectStream(jsConfig(ns), r.deliver, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ConnectStream(jsConfig(ns), func(string, uint64, int64, []byte) {}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 20 {
		pubs := []Pub{{Channel: fmt.Sprint("c", i%3), Data: []byte(`1`)}, {Channel: "d", Data: []byte(`2`)}}
		if err := b.Publish(ctx, pubs); err != nil {
			t.Fatal(err)
		}
	}
	publishOne(t, b, "e", `3`) // alone: one by one
	got := r.waitFor(t, "41 deliveries", func(d []seqDelivery) bool { return len(d) == 41 })
	if msgs, ok, err := a.Since(ctx, "d", byChannel(got)["d"][0].seq-1, 0); err != nil || !ok || len(msgs) != 20 {
		t.Fatalf("Since: %d, %v, %v", len(msgs), ok, err)
	}
	during := clientGoroutines()
	t.Logf("%d client goroutines with two streams", during)
	a.Close()
	b.Close()
	poll(t, fmt.Sprintf("client goroutines to end (%d with two streams)", during), func() bool {
		return clientGoroutines() == 0
	})
}

// clientGoroutines counts the goroutines running code of this package or
// of nats.go, the test's own aside.
func clientGoroutines() int {
	buf := make([]byte, 1<<20)
	n := 0
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.Contains(g, "testing.tRunner") {
			continue
		}
		if strings.Contains(g, "github.com/nats-io/nats.go") || strings.Contains(g, "wsfan/cluster.") {
			n++
		}
	}
	return n
}

// TestStreamSkipped: a node that falls behind a channel by more than
// max_msgs_per_channel loses what the stream evicted meanwhile: the seq
// jumps (clients see the gap), and Skipped counts it.
func TestStreamSkipped(t *testing.T) {
	ns := runJetStream(t, -1, t.TempDir())
	cfg := jsConfig(ns)
	cfg.JetStream.MaxMsgsPerChannel = 10
	r := newSeqRecorder()
	release := make(chan struct{})
	warm := false // the consumer goroutine's
	slow := openStream(t, cfg, func(ch string, seq uint64, ts int64, data []byte) {
		if warm {
			<-release // behind from the first publication on
		}
		warm = warm || string(data) == `"warm-up"`
		r.deliver(ch, seq, ts, data)
	})
	pub := openStream(t, cfg, nil)
	publishOne(t, pub, "c", `"warm-up"`)
	r.waitData(t, `"warm-up"`) // the slow node's consumer is there
	// Flow control lets the server send the slow node a window of
	// messages before it waits for it; publications beyond the window and
	// the limit are evicted before they are sent.
	const n = 5000
	pubs := make([]Pub, 100)
	for i := 0; i < n; i += len(pubs) {
		for j := range pubs {
			pubs[j] = Pub{Channel: "c", Data: []byte(fmt.Sprint(i + j))}
		}
		if err := pub.Publish(context.Background(), pubs); err != nil {
			t.Fatal(err)
		}
	}
	close(release)
	got := r.waitData(t, fmt.Sprint(n-1))[1:]
	for i := 1; i < len(got); i++ {
		if got[i].seq <= got[i-1].seq {
			t.Fatalf("seq %d after %d", got[i].seq, got[i-1].seq)
		}
	}
	// The first one the slow node got is usually "0"; on a busy machine
	// the first ones may be evicted before the server pushes them.
	first, err := strconv.Atoi(got[0].data)
	st := slow.Stats()
	if err != nil || st.Skipped == 0 || int(st.Skipped)+len(got) != n || got[len(got)-1].seq != got[0].seq+uint64(n-1-first) {
		t.Fatalf("delivered %d from %s, stats %+v, seqs %d..%d", len(got), got[0].data, st, got[0].seq, got[len(got)-1].seq)
	}
}
