package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"wsfan/config"
)

func TestSubscribeAck(t *testing.T) {
	s := startServer(t, func(c *config.Config) { c.MaxSubscriptionsPerConn = 3 })
	c := dial(t, s)

	ack := c.subscribe("1", "token.BTC.trade", "user.42.favorites")
	if ack.ID != "1" || *ack.Count != 2 || strings.Join(ack.Subscribed, ",") != "token.BTC.trade,user.42.favorites" || len(ack.Rejected) != 0 {
		t.Fatalf("ack %s", ack.raw)
	}
	// Subscribing again is not an error and does not count twice.
	ack = c.subscribe("2", "token.BTC.trade", "token.BTC.trade")
	if *ack.Count != 2 || strings.Join(ack.Subscribed, ",") != "token.BTC.trade" {
		t.Fatalf("duplicate subscribe ack %s", ack.raw)
	}
	// Bad names are rejected; the limit holds (a pattern counts as one).
	ack = c.subscribe("3", "token.*.trade", "bad..name", "a.>.b", "c.d")
	if *ack.Count != 3 || strings.Join(ack.Subscribed, ",") != "token.*.trade" || len(ack.Rejected) != 3 {
		t.Fatalf("ack %s", ack.raw)
	}
	want := map[string]string{"a.>.b": "INVALID_CHANNEL", "bad..name": "INVALID_CHANNEL", "c.d": "TOO_MANY_SUBSCRIPTIONS"}
	for _, r := range ack.Rejected {
		if want[r.Channel] != r.Code || r.Message == "" {
			t.Fatalf("rejected %+v; want code %q", r, want[r.Channel])
		}
	}
	if got := s.hub.Index().Subscriptions(); got != 3 {
		t.Fatalf("index holds %d subscriptions; want 3", got)
	}
}

func TestWildcardSubscriptionsDeliverOnce(t *testing.T) {
	s := startServer(t, nil)
	live := dial(t, s) // the "live trades" page
	btc := dial(t, s)  // every event of BTC
	both := dial(t, s) // overlapping subscriptions
	live.subscribe("1", "token.*.trade")
	btc.subscribe("1", "token.BTC.>")
	both.subscribe("1", "token.BTC.trade", "token.BTC.>", "token.*.trade", ">")

	mustPublish(t, s, `[{"channel":"token.BTC.trade","data":1},{"channel":"token.ETH.trade","data":2},`+
		`{"channel":"token.BTC.liquidity","data":3},{"channel":"user.1.favorites","data":4}]`)
	f := func(c *wsClient, want ...string) {
		t.Helper()
		for _, w := range want {
			m := c.expect("message")
			if got := m.Channel + "=" + string(m.Data); got != w {
				t.Fatalf("got %s; want %s", m.raw, w)
			}
		}
	}
	f(live, "token.BTC.trade=1", "token.ETH.trade=2")
	f(btc, "token.BTC.trade=1", "token.BTC.liquidity=3")
	f(both, "token.BTC.trade=1", "token.ETH.trade=2", "token.BTC.liquidity=3", "user.1.favorites=4")
	// Nothing more: a marker on a channel each has proves no duplicate
	// came before it.
	mustPublish(t, s, `{"channel":"token.BTC.trade","data":"end"}`)
	for _, c := range []*wsClient{live, btc, both} {
		if m := c.expect("message"); string(m.Data) != `"end"` {
			t.Fatalf("duplicate delivery: %s", m.raw)
		}
	}
	if got := counter(s, "wsfan_deliveries_total"); got != 2+2+4+3 {
		t.Fatalf("deliveries %d; want 11", got)
	}
	// Unsubscribing a pattern stops it.
	live.send(`{"type":"unsubscribe","data":{"channels":["token.*.trade"]}}`)
	live.expect("unsubscription_ack")
	mustPublish(t, s, `[{"channel":"token.SOL.trade","data":5}]`)
	live.subscribe("2", "x.y")
	mustPublish(t, s, `{"channel":"x.y","data":6}`)
	if m := live.expect("message"); m.Channel != "x.y" {
		t.Fatalf("after unsubscribing the pattern: %s", m.raw)
	}
}

func TestPublishDeliversInOrderToEverySubscriber(t *testing.T) {
	s := startServer(t, nil)
	const clients = 3
	var cs []*wsClient
	for i := 0; i < clients; i++ {
		c := dial(t, s)
		c.subscribe("s", "token.BTC.trade")
		cs = append(cs, c)
	}
	data := []string{
		`{"price":"43250.5"}`,
		`{ "nested" : {"a":[1, 2.5e3, null, true]}, "s":"q\"uote\u00e9" }`,
		`"just a string"`,
		`12345`,
		`null`,
	}
	mustPublish(t, s, `{"channel":"token.BTC.trade","data":`+data[0]+`}`)
	var batch []string
	for i := 1; i < len(data); i++ {
		batch = append(batch, `{"channel":"token.BTC.trade","data":`+data[i]+`}`)
	}
	for i := 0; i < 45; i++ {
		d := fmt.Sprintf(`{"n":%d}`, i)
		data = append(data, d)
		batch = append(batch, `{"channel":"token.BTC.trade","data":`+d+`}`)
	}
	code, body := publish(t, s, "["+strings.Join(batch, ",")+"]")
	if code != 200 || body != fmt.Sprintf(`{"accepted":%d}`, len(batch)) {
		t.Fatalf("batch publish: %d %s", code, body)
	}
	for ci, c := range cs {
		for i, want := range data {
			f := c.expect("message")
			if f.Channel != "token.BTC.trade" || f.Seq != uint64(i+1) || f.TS == 0 {
				t.Fatalf("client %d message %d: %s", ci, i, f.raw)
			}
			if string(f.Data) != want {
				t.Fatalf("client %d message %d data %s; want byte-exact %s", ci, i, f.Data, want)
			}
		}
	}
	if got := counter(s, "wsfan_deliveries_total"); got != uint64(clients*len(data)) {
		t.Fatalf("deliveries counter %d; want %d", got, clients*len(data))
	}
}

func TestUnsubscribeStopsDelivery(t *testing.T) {
	s := startServer(t, nil)
	c := dial(t, s)
	c.subscribe("1", "a.x", "b.x")
	c.send(`{"type":"unsubscribe","id":"2","data":{"channels":["a.x","never.had"]}}`)
	ack := c.expect("unsubscription_ack")
	if ack.ID != "2" || *ack.Count != 1 || strings.Join(ack.Unsubscribed, ",") != "a.x,never.had" {
		t.Fatalf("unsubscription_ack %s", ack.raw)
	}
	mustPublish(t, s, `[{"channel":"a.x","data":1},{"channel":"b.x","data":2}]`)
	if f := c.expect("message"); f.Channel != "b.x" {
		t.Fatalf("got %s after unsubscribing a.x", f.raw)
	}
	if n := members(s, "a.x"); n != 0 {
		t.Fatalf("a.x still has %d subscribers", n)
	}
}

func TestBadCommandsGetErrorFramesAndConnectionLives(t *testing.T) {
	s := startServer(t, nil)
	c := dial(t, s)
	f := func(in, wantID, wantCode string) {
		t.Helper()
		c.send(in)
		e := c.expect("error")
		if e.Code != wantCode || e.ID != wantID || e.Message == "" {
			t.Fatalf("%s -> %s; want code %s id %q", in, e.raw, wantCode, wantID)
		}
	}
	f(`not json`, "", "BAD_REQUEST")
	f(`{"type":"subscribe"`, "", "BAD_REQUEST")
	f(`[1,2]`, "", "BAD_REQUEST")
	f(`{"id":"7","type":"dance"}`, "7", "BAD_REQUEST")
	f(`{"id":"8","type":"subscribe"}`, "8", "BAD_REQUEST")
	f(`{"id":"9","type":"subscribe","data":{"channels":"a.b"}}`, "9", "BAD_REQUEST")
	f(`{"id":"10","Type":"heartbeat"}`, "10", "BAD_REQUEST")
	if err := c.conn.WriteMessage(websocket.BinaryMessage, []byte(`{"type":"heartbeat"}`)); err != nil {
		t.Fatal(err)
	}
	c.expect("error")

	c.send(`{"type":"heartbeat","extra":{"ignored":true}}`)
	if p := c.expect("pong"); p.TS == 0 {
		t.Fatalf("pong without ts: %s", p.raw)
	}
	c.subscribe("11", "still.alive")
	mustPublish(t, s, `{"channel":"still.alive","data":{}}`)
	c.expect("message")
}

func TestFrameOverMaxMessageBytesCloses1009(t *testing.T) {
	s := startServer(t, func(c *config.Config) { c.MaxMessageBytes = 256 })
	c := dial(t, s)
	c.send(`{"type":"heartbeat","pad":"` + strings.Repeat("x", 300) + `"}`)
	code, reason := c.closeCode(5 * time.Second)
	if code != 1009 || reason != "message too big" {
		t.Fatalf("close %d %q; want 1009 \"message too big\"", code, reason)
	}
}

func TestPublishAPIErrors(t *testing.T) {
	s := startServer(t, func(c *config.Config) { c.MaxPublishBytes = 1024 })
	c := dial(t, s)
	c.subscribe("1", "a.b")

	f := func(key, body string, wantStatus int, wantCode string) {
		t.Helper()
		status, resp := publishWithKey(t, s, key, body)
		var e struct {
			Error struct{ Code, Message string }
		}
		if status != wantStatus || json.Unmarshal([]byte(resp), &e) != nil || e.Error.Code != wantCode || e.Error.Message == "" {
			t.Fatalf("publish(key=%q, %s) = %d %s; want %d %s", key, body, status, resp, wantStatus, wantCode)
		}
	}
	f("", `{"channel":"a.b","data":1}`, 401, "UNAUTHORIZED")
	f("wrong-key-wrong-key-wrong", `{"channel":"a.b","data":1}`, 401, "UNAUTHORIZED")
	f(testKey, `{"channel":"a.b"`, 400, "BAD_REQUEST")
	f(testKey, `{"channel":"a.b"}`, 400, "BAD_REQUEST")
	f(testKey, `{"data":1}`, 400, "BAD_REQUEST")
	f(testKey, `[]`, 400, "BAD_REQUEST")
	f(testKey, `{"channel":"a..b","data":1}`, 400, "INVALID_CHANNEL")
	f(testKey, `{"channel":"a.*","data":1}`, 400, "INVALID_CHANNEL")
	// One bad entry: nothing of the batch is published.
	f(testKey, `[{"channel":"a.b","data":1},{"channel":"a b","data":2}]`, 400, "INVALID_CHANNEL")
	f(testKey, `{"channel":"a.b","data":"`+strings.Repeat("x", 2000)+`"}`, 413, "TOO_LARGE")

	// Only this publication arrives, and it is the channel's first.
	mustPublish(t, s, `{"channel":"a.b","data":"marker"}`)
	if m := c.expect("message"); string(m.Data) != `"marker"` || m.Seq != 1 {
		t.Fatalf("first message after rejected publishes: %s", m.raw)
	}
	// The publish API is not on the public listener.
	resp, err := http.Post("http://"+s.PublicAddr()+"/publish", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == 200 {
		t.Fatalf("public listener answered /publish with 200")
	}
}

func TestSlowConsumerIsClosedAndOthersGetEverything(t *testing.T) {
	s := startServer(t, func(c *config.Config) { c.MaxPendingBytes = 64 << 10 })
	slow := dial(t, s)
	fast := dial(t, s)
	slow.subscribe("1", "hot.ch")
	fast.subscribe("1", "hot.ch")

	payload := `"` + strings.Repeat("p", 1000) + `"`
	var batch []string
	for i := 0; i < 50; i++ {
		batch = append(batch, `{"channel":"hot.ch","data":`+payload+`}`)
	}
	body := "[" + strings.Join(batch, ",") + "]"

	// The fast client reads everything, checking seq, until the connection
	// is closed at the end of the test.
	var received atomic.Uint64
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for {
			f, err := fast.tryRead(30 * time.Second)
			if err != nil {
				t.Logf("fast reader stops after %d: %v", received.Load(), err)
				return
			}
			if want := received.Load() + 1; f.Seq != want {
				t.Errorf("fast client got seq %d; want %d", f.Seq, want)
			}
			received.Add(1)
		}
	}()
	// Publish a batch (under max_pending_bytes) at a time and let the fast
	// client catch up before the next, so only the slow one falls behind.
	published := 0
	for counter(s, "wsfan_slow_consumer_disconnects_total") == 0 {
		if published > 40000 {
			t.Fatal("slow consumer never detected")
		}
		mustPublish(t, s, body)
		published += len(batch)
		waitFor(t, fmt.Sprintf("the fast client to catch up (published %d)", published), func() bool { return received.Load() >= uint64(published) })
	}
	mustPublish(t, s, body) // more after the slow one is cut off
	published += len(batch)

	code, reason := slow.closeCode(10 * time.Second)
	if code != 1008 || reason != "slow consumer" {
		t.Fatalf("slow client closed with %d %q; want 1008 \"slow consumer\"", code, reason)
	}
	waitFor(t, "the fast client to receive every publication", func() bool { return received.Load() >= uint64(published) })
	_ = fast.conn.Close()
	<-readerDone
	if got := received.Load(); got != uint64(published) {
		t.Fatalf("fast client got %d messages; want %d", got, published)
	}
	if n := counter(s, "wsfan_slow_consumer_disconnects_total"); n != 1 {
		t.Fatalf("%d slow-consumer disconnects; want 1", n)
	}
}

func TestHealthz(t *testing.T) {
	s := startServer(t, nil)
	for _, addr := range []string{s.PublicAddr(), s.AdminAddr()} {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "ok" {
			t.Fatalf("%s/healthz = %d %q", addr, resp.StatusCode, b)
		}
	}
}

func TestMaxConnections(t *testing.T) {
	s := startServer(t, func(c *config.Config) { c.MaxConnections = 2 })
	dial(t, s)
	dial(t, s)
	_, resp, err := websocket.DefaultDialer.Dial("ws://"+s.PublicAddr()+"/ws", nil)
	if err == nil || resp == nil || resp.StatusCode != 503 {
		t.Fatalf("third connection: err %v, resp %v; want HTTP 503", err, resp)
	}
}

func TestIdleConnectionIsClosed(t *testing.T) {
	s := startServer(t, func(c *config.Config) {
		c.PingInterval = 100 * time.Millisecond
		c.IdleTimeout = 400 * time.Millisecond
	})
	live := dial(t, s)
	mute := dial(t, s)
	// live answers pings (gorilla answers while reading); mute never reads.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if _, err := live.tryRead(3 * time.Second); err != nil {
				return
			}
		}
	}()
	waitFor(t, "the idle connection to be closed", func() bool { return s.m.idleCloses.Get() >= 1 })
	code, reason := mute.closeCode(10 * time.Second)
	if code != 1001 || reason != "idle timeout" {
		t.Fatalf("mute client closed with %d %q", code, reason)
	}
	if n := s.m.idleCloses.Get(); n != 1 {
		t.Fatalf("%d idle closes; the live client must stay", n)
	}
	live.send(`{"type":"heartbeat"}`)
	_ = live.conn.Close()
	<-done
}

func TestManyClientsGoroutinesAndCleanup(t *testing.T) {
	s := startServer(t, nil)
	base := runtime.NumGoroutine()
	const n = 2000
	conns := make([]*websocket.Conn, 0, n)
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	for i := 0; i < n; i++ {
		conn, _, err := d.Dial("ws://"+s.PublicAddr()+"/ws", nil)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		conns = append(conns, conn)
		msg := fmt.Sprintf(`{"type":"subscribe","data":{"channels":["token.%d.trade","user.%d.favorites","global"]}}`, i%100, i)
		if err := conn.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	for i, conn := range conns {
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, b, err := conn.ReadMessage(); err != nil || !strings.Contains(string(b), `"count":3`) {
			t.Fatalf("client %d ack: %s %v", i, b, err)
		}
	}
	if got := s.conns.Load(); got != n {
		t.Fatalf("connections gauge %d; want %d", got, n)
	}
	if g := runtime.NumGoroutine(); g > base+100 {
		t.Fatalf("%d goroutines with %d clients (baseline %d): a goroutine per connection?", g, n, base)
	}
	if got := s.hub.Index().Subscriptions(); got != 3*n {
		t.Fatalf("index holds %d subscriptions; want %d", got, 3*n)
	}
	for _, conn := range conns {
		_ = conn.Close()
	}
	waitFor(t, "every connection to close", func() bool { return s.conns.Load() == 0 })
	if s.hub.Index().Channels() != 0 || s.hub.Index().Subscriptions() != 0 || s.reg.len() != 0 {
		t.Fatalf("after every client left: %d channels, %d subscriptions, %d registered",
			s.hub.Index().Channels(), s.hub.Index().Subscriptions(), s.reg.len())
	}
	waitFor(t, "goroutines to return near the baseline", func() bool { return runtime.NumGoroutine() <= base+10 })
}

func TestPprofOnlyWhenEnabled(t *testing.T) {
	for _, on := range []bool{false, true} {
		s := startServer(t, func(c *config.Config) { c.Pprof = on })
		code, _ := httpGet(t, "http://"+s.AdminAddr()+"/debug/pprof/")
		if want := map[bool]int{false: 404, true: 200}[on]; code != want {
			t.Fatalf("pprof=%v: /debug/pprof/ answered %d; want %d", on, code, want)
		}
		if code, _ := httpGet(t, "http://"+s.PublicAddr()+"/debug/pprof/"); code == 200 {
			t.Fatal("pprof is served on the public listener")
		}
	}
}
