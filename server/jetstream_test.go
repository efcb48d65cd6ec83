package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"wsfan/config"
	"wsfan/ws/wstest"
)

// The cluster on JetStream (issue 14), end to end: real nats-server with
// JetStream and a file store, wsfan nodes, gorilla clients, the HTTP API.
// cluster/jetstream*_test.go test the stream bridge itself, outages with
// publications through other NATS servers included.

const jsChannel = "token.BTC.trade"

// runJetStreamNATS starts an embedded NATS server with JetStream, its file
// store in dir (port -1: a free one); shut down when the test ends.
func runJetStreamNATS(t testing.TB, port int, dir string) *natsserver.Server {
	t.Helper()
	ns, err := natsserver.NewServer(&natsserver.Options{
		Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true, JetStream: true, StoreDir: dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS not ready")
	}
	t.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	return ns
}

func natsURL(ns *natsserver.Server) string {
	return fmt.Sprintf("nats://127.0.0.1:%d", ns.Addr().(*net.TCPAddr).Port)
}

// jsNode starts a node on the stream WSFAN of the NATS server at url, with
// history on token.*.trade; mutate, if any, adjusts its configuration.
func jsNode(t testing.TB, url string, mutate ...func(*config.Config)) *Server {
	t.Helper()
	return startServer(t, func(c *config.Config) {
		clusterConfig(c, url)
		c.NATS.PublishTimeout = 2 * time.Second
		c.NATS.JetStream.Stream = "WSFAN"
		c.NATS.JetStream.MaxAge = time.Minute
		c.NATS.JetStream.MaxMsgsPerChannel = 1000
		c.History.Channels = []string{"token.*.trade"}
		c.History.Size = 200
		for _, m := range mutate {
			m(c)
		}
	})
}

// expectRun reads n messages of jsChannel and fails unless their seqs run
// from first, consecutive; it returns their data.
func (c *wsClient) expectRun(first uint64, n int) []string {
	c.t.Helper()
	var data []string
	for i := 0; i < n; i++ {
		m := c.expect("message")
		if m.Channel != jsChannel || m.Seq != first+uint64(i) {
			c.t.Fatalf("message %d: %s seq %d; want %s seq %d", i, m.Channel, m.Seq, jsChannel, first+uint64(i))
		}
		data = append(data, string(m.Data))
	}
	return data
}

// TestJetStreamThreeNodes: publications through each node's API and
// straight into the stream reach the subscribers of every node with the
// same seq, and every node reports the same epoch.
func TestJetStreamThreeNodes(t *testing.T) {
	ns := runJetStreamNATS(t, -1, t.TempDir())
	url := natsURL(ns)
	nodes := []*Server{jsNode(t, url), jsNode(t, url), jsNode(t, url)}
	var clients []*wsClient
	var epoch string
	for i, n := range nodes {
		c := dial(t, n)
		ack := c.subscribe("1", jsChannel)
		if len(ack.Positions) != 1 || ack.Positions[0].Seq != 0 {
			t.Fatalf("node %d: ack %s; want position 0", i, ack.raw)
		}
		if i == 0 {
			epoch = ack.Positions[0].Epoch
		} else if ack.Positions[0].Epoch != epoch {
			t.Fatalf("node %d reports epoch %q; node 0 %q", i, ack.Positions[0].Epoch, epoch)
		}
		clients = append(clients, c)
	}
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	const rounds = 10
	for r := 0; r < rounds; r++ {
		for i, n := range nodes {
			mustPublish(t, n, fmt.Sprintf(`{"channel":%q,"data":{"node":%d,"r":%d}}`, jsChannel, i, r))
		}
		if _, err := js.Publish(context.Background(), "odin."+jsChannel, fmt.Appendf(nil, `{"plain":%d}`, r)); err != nil {
			t.Fatal(err)
		}
	}
	total := rounds * (len(nodes) + 1)
	want := clients[0].expectRun(1, total)
	for i, c := range clients[1:] {
		if got := c.expectRun(1, total); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("node %d delivered\n%v\nnode 0\n%v", i+1, got, want)
		}
	}
}

// TestJetStreamRecoverOnOtherNode: a client leaves node A, 100
// publications go out, it comes back on node B with since and recovers
// the 100 in order, then live ones; a node started after them recovers
// them from the stream, and reports the channel's position, not 0.
func TestJetStreamRecoverOnOtherNode(t *testing.T) {
	ns := runJetStreamNATS(t, -1, t.TempDir())
	url := natsURL(ns)
	a, b := jsNode(t, url), jsNode(t, url)

	c := dial(t, a)
	ack := c.subscribe("1", jsChannel)
	epoch := ack.Positions[0].Epoch
	publishN(t, a, jsChannel, 1, 1)
	c.expectRun(1, 1)
	_ = c.conn.Close()

	publishN(t, b, jsChannel, 2, 50)
	publishN(t, a, jsChannel, 52, 50)
	// B delivered them all before a client may ask: it counts them.
	waitFor(t, "node B to deliver 101 publications", func() bool {
		return counter(b, "wsfan_jetstream_delivered_total") == 101
	})
	r := dial(t, b)
	ack = r.subscribeSince("2", jsChannel, epoch, 1)
	if ack.Recovered == nil || !*ack.Recovered || ack.Positions[0].Seq != 101 || ack.Positions[0].Epoch != epoch {
		t.Fatalf("ack %s; want recovered, position 101 of epoch %s", ack.raw, epoch)
	}
	got := r.expectRun(2, 100)
	if got[0] != `{"n":2}` || got[99] != `{"n":101}` {
		t.Fatalf("recovered %s .. %s; want n 2 .. 101", got[0], got[99])
	}
	publishN(t, a, jsChannel, 102, 1)
	r.expectRun(102, 1)
	if n := counter(b, `wsfan_jetstream_reads_total{result="ok"}`); n != 0 {
		t.Fatalf("node B read the stream %d times; its memory held the range", n)
	}

	// Node C starts after all of it: its memory holds nothing, the stream
	// does.
	nodeC := jsNode(t, url)
	fresh := dial(t, nodeC).subscribe("3", jsChannel)
	if fresh.Positions[0].Seq != 102 || fresh.Positions[0].Epoch != epoch {
		t.Fatalf("fresh subscribe on node C: ack %s; want position 102 of epoch %s", fresh.raw, epoch)
	}
	late := dial(t, nodeC)
	ack = late.subscribeSince("4", jsChannel, epoch, 90)
	if ack.Recovered == nil || !*ack.Recovered || ack.Positions[0].Seq != 102 {
		t.Fatalf("since 90 on node C: ack %s; want recovered at 102", ack.raw)
	}
	if got := late.expectRun(91, 12); got[0] != `{"n":91}` {
		t.Fatalf("recovered from the stream %s first; want n 91", got[0])
	}
	publishN(t, b, jsChannel, 103, 1)
	late.expectRun(103, 1)
	reads := counter(nodeC, `wsfan_jetstream_reads_total{result="ok"}`)
	if reads == 0 {
		t.Fatal("node C recovered without reading the stream")
	}
	// What node C read, it keeps: the next client that missed the same
	// range recovers from its memory.
	again := dial(t, nodeC)
	if ack := again.subscribeSince("6", jsChannel, epoch, 95); ack.Recovered == nil || !*ack.Recovered || ack.Positions[0].Seq != 103 {
		t.Fatalf("since 95 on node C: ack %s; want recovered at 103", ack.raw)
	}
	again.expectRun(96, 8)
	if n := counter(nodeC, `wsfan_jetstream_reads_total{result="ok"}`); n != reads {
		t.Fatalf("node C read the stream %d more times; its memory held the range", n-reads)
	}
	// A history channel nobody published to: the stream is asked once for
	// its position (0), not at every subscribe.
	reads = counter(nodeC, `wsfan_jetstream_reads_total{result="ok"}`)
	for i := 0; i < 3; i++ {
		if ack := dial(t, nodeC).subscribe("7", "token.NEW.trade"); ack.Positions[0].Seq != 0 {
			t.Fatalf("a channel never published: ack %s; want position 0", ack.raw)
		}
	}
	if n := counter(nodeC, `wsfan_jetstream_reads_total{result="ok"}`) - reads; n != 1 {
		t.Fatalf("3 subscribes to an unpublished channel read the stream %d times; want 1", n)
	}
	// Another epoch, or a range the stream no longer holds: not recovered.
	for _, since := range []struct {
		epoch string
		seq   uint64
	}{{"other", 90}, {epoch, 500}} {
		ack := dial(t, nodeC).subscribeSince("5", jsChannel, since.epoch, since.seq)
		if ack.Recovered == nil || *ack.Recovered {
			t.Fatalf("since %v: ack %s; want recovered false", since, ack.raw)
		}
	}
}

// TestJetStreamIdempotentPublish: a publication retried with the same id
// is stored, and delivered, once; a bad id is refused.
func TestJetStreamIdempotentPublish(t *testing.T) {
	ns := runJetStreamNATS(t, -1, t.TempDir())
	a := jsNode(t, natsURL(ns))
	c := dial(t, a)
	c.subscribe("1", jsChannel)
	body := fmt.Sprintf(`{"channel":%q,"data":{"order":1},"id":"order-1"}`, jsChannel)
	for i := 0; i < 3; i++ {
		mustPublish(t, a, body) // a retry is answered 200: it is stored
	}
	mustPublish(t, a, fmt.Sprintf(`{"channel":%q,"data":{"order":2},"id":"order-2"}`, jsChannel))
	if got := c.expectRun(1, 2); got[0] != `{"order":1}` || got[1] != `{"order":2}` {
		t.Fatalf("delivered %v; want order 1 once, then order 2", got)
	}
	if code, resp := publish(t, a, fmt.Sprintf(`{"channel":%q,"data":1,"id":" padded"}`, jsChannel)); code != 400 || !strings.Contains(resp, "BAD_REQUEST") {
		t.Fatalf("bad id: HTTP %d %s; want 400 BAD_REQUEST", code, resp)
	}
	if code, resp := publish(t, a, fmt.Sprintf(`{"channel":%q,"data":1,"id":%q}`, jsChannel, strings.Repeat("x", 65))); code != 400 {
		t.Fatalf("65-byte id: HTTP %d %s; want 400", code, resp)
	}
}

// TestJetStreamNATSRestart: while NATS is down a publish is answered 503
// (never 200 and lost) and the internal /healthz says so; NATS restarted
// on the same store, the node resumes, and its subscriber, connected
// throughout, has every acknowledged publication once, in seq order, with
// no gap, while a publisher went on through the outage.
func TestJetStreamNATSRestart(t *testing.T) {
	dir := t.TempDir()
	ns := runJetStreamNATS(t, -1, dir)
	port := ns.Addr().(*net.TCPAddr).Port
	a := jsNode(t, natsURL(ns))
	c := dial(t, a)
	c.subscribe("1", jsChannel)
	publishN(t, a, jsChannel, 1, 5)
	c.expectRun(1, 5)

	results, stop := publisher(a, 6)
	var acked []int // in order
	refused := 0
	// wait takes results until cond holds.
	wait := func(cond func(r result) bool) {
		t.Helper()
		for r := range results {
			switch r.code {
			case 200:
				acked = append(acked, r.n)
			case 503:
				refused++
			default:
				t.Fatalf("publication %d: HTTP %d; want 200 or 503", r.n, r.code)
			}
			if cond(r) {
				return
			}
		}
		t.Fatal("the publisher stopped")
	}
	wait(func(r result) bool { return len(acked) >= 5 })

	ns.Shutdown()
	ns.WaitForShutdown()
	wait(func(r result) bool { return r.code == 503 && refused >= 3 })
	waitFor(t, "the node to notice", func() bool { return !a.stream.Connected() })
	if code, body := httpGet(t, "http://"+a.AdminAddr()+"/healthz"); code != 503 || !strings.HasPrefix(body, "nats: ") {
		t.Fatalf("internal /healthz with NATS down: %d %q; want 503 nats: ...", code, body)
	}
	if code, _ := httpGet(t, "http://"+a.PublicAddr()+"/healthz"); code != 200 {
		t.Fatalf("public /healthz with NATS down: %d; want 200 (clients stay)", code)
	}

	runJetStreamNATS(t, port, dir)
	before := len(acked)
	wait(func(r result) bool { return len(acked) >= before+5 })
	close(stop)
	for r := range results { // the last one in flight
		if r.code == 200 {
			acked = append(acked, r.n)
		}
	}
	waitFor(t, "the internal /healthz to turn 200 once the node caught up", func() bool {
		code, _ := httpGet(t, "http://"+a.AdminAddr()+"/healthz")
		return code == 200
	})

	// The subscriber has every acknowledged publication once, in order, and
	// seqs run on from 6 with no gap (a refused publication may have been
	// stored: it is delivered too, in its place).
	last := acked[len(acked)-1]
	got := map[int]bool{}
	for seq, prev := uint64(6), 5; prev != last; seq++ {
		m := c.expect("message")
		var d struct{ N int }
		if err := json.Unmarshal(m.Data, &d); err != nil || m.Seq != seq || d.N <= prev {
			t.Fatalf("message seq %d data %s after n %d; want seq %d and a later n", m.Seq, m.Data, prev, seq)
		}
		got[d.N], prev = true, d.N
	}
	for _, n := range acked {
		if !got[n] {
			t.Fatalf("publication %d was acknowledged and not delivered", n)
		}
	}
	t.Logf("%d acknowledged, %d refused during the outage", len(acked), refused)
}

// TestJetStreamHeldCommands: a subscribe that reads from the stream holds
// the connection; the commands sent right behind it are answered after its
// ack and replay, in order; a client that sends more than a held
// connection parks is closed 1008.
func TestJetStreamHeldCommands(t *testing.T) {
	ns := runJetStreamNATS(t, -1, t.TempDir())
	url := natsURL(ns)
	a := jsNode(t, url)
	epoch := dial(t, a).subscribe("0", jsChannel).Positions[0].Epoch
	publishN(t, a, jsChannel, 1, 10)
	waitFor(t, "10 deliveries", func() bool { return counter(a, "wsfan_jetstream_delivered_total") == 10 })

	fresh := func() *wsClient { // on a node whose memory is empty: each subscribe reads
		return dial(t, jsNode(t, url))
	}
	c := fresh()
	burst := []string{
		fmt.Sprintf(`{"type":"subscribe","id":"s","data":{"channels":[%q],"since":{%q:{"epoch":%q,"seq":4}}}}`,
			jsChannel, jsChannel, epoch),
		fmt.Sprintf(`{"type":"unsubscribe","id":"u","data":{"channels":[%q]}}`, jsChannel),
		`{"type":"heartbeat","id":"h"}`,
	}
	for _, cmd := range burst {
		c.send(cmd)
	}
	if ack := c.expect("subscription_ack"); ack.Recovered == nil || !*ack.Recovered || ack.Positions[0].Seq != 10 {
		t.Fatalf("ack %s; want recovered at 10", ack.raw)
	}
	c.expectRun(5, 6)
	if f := c.read(); f.Type != "unsubscription_ack" || f.ID != "u" {
		t.Fatalf("after the replay: %s; want the unsubscription_ack", f.raw)
	}
	if f := c.read(); f.Type != "pong" || f.ID != "h" {
		t.Fatalf("after the unsubscription_ack: %s; want the pong", f.raw)
	}

	// 400 commands in one write behind a subscribe that reads (the
	// positions of 100 channels, 100 round trips): the held connection
	// parks at most 256; no command rate limit would close it.
	noLimit := func(c *config.Config) { c.Limits.CommandsPerSecond, c.Limits.CommandBurst = 1e6, 1e6 }
	flood := rawUpgrade(t, jsNode(t, url, noLimit))
	many := make([]string, 100)
	for i := range many {
		many[i] = fmt.Sprintf("%q", fmt.Sprintf("token.T%d.trade", i))
	}
	frames := [][]byte{wstest.Text(`{"type":"subscribe","id":"m","data":{"channels":[` + strings.Join(many, ",") + `]}}`)}
	for i := 0; i < 400; i++ {
		frames = append(frames, wstest.Text(fmt.Sprintf(`{"type":"heartbeat","id":"%d"}`, i)))
	}
	flood.write(concat(frames...))
	if code, reason, _ := flood.closeResult(10 * time.Second); code != 1008 || reason != "rate limited" {
		t.Fatalf("400 commands behind a held subscribe: close %d %q; want 1008 rate limited", code, reason)
	}
}

// result is one publication of publisher's: its n and HTTP status.
type result struct{ n, code int }

// publisher publishes {"n":from}, {"n":from+1}, ... through s, one at a
// time, until stop is closed; then results, which has every answer in
// order, is closed.
func publisher(s *Server, from int) (results chan result, stop chan struct{}) {
	results, stop = make(chan result, 1<<16), make(chan struct{})
	go func() {
		defer close(results)
		for n := from; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			results <- result{n, postN(s, n)}
		}
	}()
	return results, stop
}

// postN publishes {"n":n} on jsChannel through s and returns the HTTP
// status, 0 when the request failed; safe off the test's goroutine.
func postN(s *Server, n int) int {
	body := fmt.Sprintf(`{"channel":%q,"data":{"n":%d}}`, jsChannel, n)
	req, _ := http.NewRequest("POST", "http://"+s.AdminAddr()+"/publish", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestJetStreamNodeRestart: while a publisher goes on through node A, node
// B shuts down and a new node takes its place; B's client comes back on the
// new node with since and ends up with every acknowledged publication,
// once, in seq order, with no gap, the missed ones read from the stream.
func TestJetStreamNodeRestart(t *testing.T) {
	ns := runJetStreamNATS(t, -1, t.TempDir())
	url := natsURL(ns)
	a, b := jsNode(t, url), jsNode(t, url)
	c := dial(t, b)
	epoch := c.subscribe("1", jsChannel).Positions[0].Epoch

	results, stop := publisher(a, 1)

	// seqs and data received by B's client, in order.
	var seqs []uint64
	var vals []int
	take := func(m frame) {
		var d struct{ N int }
		if err := json.Unmarshal(m.Data, &d); err != nil {
			t.Fatalf("data %s: %v", m.Data, err)
		}
		seqs, vals = append(seqs, m.Seq), append(vals, d.N)
	}
	for len(seqs) < 20 {
		take(c.expect("message"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go func() { _ = b.Shutdown(ctx) }()
	for { // what B still sends before its close
		_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, p, err := c.conn.ReadMessage()
		if err != nil {
			if ce, ok := err.(*websocket.CloseError); !ok || ce.Code != 1001 {
				t.Fatalf("B's close: %v; want 1001", err)
			}
			break
		}
		var m frame
		if json.Unmarshal(p, &m) == nil && m.Type == "message" {
			take(m)
		}
	}

	successor := jsNode(t, url)
	r := dial(t, successor)
	if ack := r.subscribeSince("2", jsChannel, epoch, seqs[len(seqs)-1]); ack.Recovered == nil || !*ack.Recovered {
		t.Fatalf("since %d on the new node: ack %s; want recovered", seqs[len(seqs)-1], ack.raw)
	}
	for len(vals) < 200 {
		take(r.expect("message"))
	}
	close(stop)
	last := 0
	for r := range results {
		if r.code != 200 { // node A never loses NATS here
			t.Fatalf("publication %d: HTTP %d", r.n, r.code)
		}
		last = r.n
	}
	for vals[len(vals)-1] < last {
		take(r.expect("message"))
	}
	got := map[int]bool{}
	for i, n := range vals {
		if i > 0 && (seqs[i] != seqs[i-1]+1 || n <= vals[i-1]) {
			t.Fatalf("message %d: seq %d n %d after seq %d n %d; want consecutive seqs, later n", i, seqs[i], n, seqs[i-1], vals[i-1])
		}
		got[n] = true
	}
	for n := 1; n <= last; n++ {
		if !got[n] {
			t.Fatalf("publication %d was acknowledged and not delivered", n)
		}
	}
	if counter(successor, `wsfan_jetstream_reads_total{result="ok"}`) == 0 {
		t.Fatal("the new node recovered without reading the stream")
	}
}
