package cluster

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"wsfan/codec"
	"wsfan/index"
)

// TestPublishDeliver publishes through bridge A and receives through bridge
// B: in order, each once, byte for byte.
func TestPublishDeliver(t *testing.T) {
	ns := runServer(t, -1)
	a := connect(t, testConfig(ns, InterestPerChannel), nil)
	b, rec := listening(t, ns, "token.BTC.trade")

	const n = 1000
	var want []string
	for i := 0; i < n; i += 10 {
		var batch []codec.Publication
		for j := i; j < i+10; j++ {
			// Bodies with white space inside, unicode and escapes: all
			// must arrive byte for byte.
			d := fmt.Sprintf(`{"i":%d, "s":"é \"q\" \u00e9","a":[1, 2.5e3,null,true]}`, j)
			want = append(want, d)
			batch = append(batch, pub("token.BTC.trade", d))
		}
		if err := a.Publish(batch); err != nil {
			t.Fatalf("Publish: %v", err)
		}
	}
	for _, d := range want {
		rec.expect(t, "token.BTC.trade", d)
	}
	// A last publication: once it is here, any duplicate of the earlier
	// ones would have been here before it.
	if err := a.Publish([]codec.Publication{pub("token.BTC.trade", `"end"`)}); err != nil {
		t.Fatal(err)
	}
	rec.expect(t, "token.BTC.trade", `"end"`)
	rec.none(t)

	if in, _ := b.Stats(); in != n+1 {
		t.Fatalf("b in = %d; want %d", in, n+1)
	}
	if _, out := a.Stats(); out != n+1 {
		t.Fatalf("a out = %d; want %d", out, n+1)
	}
}

// TestPublishEcho: a node receives its own publications back from NATS, which
// is how they reach its local subscribers.
func TestPublishEcho(t *testing.T) {
	ns := runServer(t, -1)
	b, rec := listening(t, ns, "user.42.favorites")
	if err := b.Publish([]codec.Publication{pub("user.42.favorites", `[1,2]`)}); err != nil {
		t.Fatal(err)
	}
	rec.expect(t, "user.42.favorites", `[1,2]`)
}

func TestPublishRejects(t *testing.T) {
	ns := runServer(t, -1)
	b := connect(t, testConfig(ns, InterestPerChannel), nil)
	err := b.Publish([]codec.Publication{pub("ok", `1`), pub("token.*.trade", `1`)})
	if !errors.Is(err, index.ErrInvalidChannel) {
		t.Fatalf("wildcard channel: err = %v; want ErrInvalidChannel", err)
	}
	big := make([]byte, b.nc.MaxPayload()+1)
	err = b.Publish([]codec.Publication{pub("ok", `1`), {Channel: "ok", Data: big}})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over max_payload: err = %v; want ErrTooLarge", err)
	}
	if _, out := b.Stats(); out != 0 {
		t.Fatalf("out = %d after rejected batches; want 0", out)
	}
}

// TestPlainPublisher: any NATS client publishing on prefix + channel reaches
// Deliver; white space around the body is trimmed.
func TestPlainPublisher(t *testing.T) {
	ns := runServer(t, -1)
	_, rec := listening(t, ns, "token.ETH.trade")

	nc := plainConn(t, ns)
	for _, body := range []string{`{"p":"1"}`, " \n{\"p\":\"2\"}\r\n"} {
		if err := nc.Publish("odin.token.ETH.trade", []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.Publish("token.ETH.trade", []byte(`"no prefix: not ours"`)); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	rec.expect(t, "token.ETH.trade", `{"p":"1"}`)
	rec.expect(t, "token.ETH.trade", `{"p":"2"}`)
}

// TestInterestRefcount: one NATS subscription per channel however many local
// subscribers, removed with the last one.
func TestInterestRefcount(t *testing.T) {
	ns := runServer(t, -1)
	b, rec := listening(t, ns)
	subs := func(want int) {
		t.Helper()
		flush(t, b) // the server has processed every SUB and UNSUB
		if got := ns.NumSubscriptions(); got != uint32(want) {
			t.Fatalf("server subscriptions = %d; want %d", got, want)
		}
		if got := b.Subscriptions(); got != want {
			t.Fatalf("Subscriptions() = %d; want %d", got, want)
		}
	}
	subs(0)
	b.Interest("token.BTC.trade", +1)
	b.Interest("token.BTC.trade", +1)
	subs(1)
	b.Interest("token.BTC.trade", -1)
	subs(1)

	a := connect(t, testConfig(ns, InterestPerChannel), nil)
	if err := a.Publish([]codec.Publication{pub("token.BTC.trade", `1`)}); err != nil {
		t.Fatal(err)
	}
	rec.expect(t, "token.BTC.trade", `1`)

	b.Interest("token.BTC.trade", -1)
	subs(0)
	b.Interest("token.BTC.trade", -1) // one too many: logged, ignored
	subs(0)
	b.Interest("token..bad", +1) // invalid: logged, ignored
	subs(0)

	// Nothing arrives without interest; the next channel proves it.
	b.Interest("token.ETH.trade", +1)
	flush(t, b)
	if err := a.Publish([]codec.Publication{pub("token.BTC.trade", `2`), pub("token.ETH.trade", `3`)}); err != nil {
		t.Fatal(err)
	}
	rec.expect(t, "token.ETH.trade", `3`)
	rec.none(t)
}

// TestInterestPatterns: patterns are NATS wildcards, and a publication that
// several of the node's subscriptions match is delivered once.
func TestInterestPatterns(t *testing.T) {
	ns := runServer(t, -1)
	b, rec := listening(t, ns)
	a := connect(t, testConfig(ns, InterestPerChannel), nil)
	publish := func(pubs ...codec.Publication) {
		t.Helper()
		if err := a.Publish(pubs); err != nil {
			t.Fatal(err)
		}
	}

	b.Interest("token.*.trade", +1)
	b.Interest("token.BTC.>", +1)
	b.Interest("token.BTC.trade", +1) // overlaps both patterns
	flush(t, b)
	if got := ns.NumSubscriptions(); got != 3 {
		t.Fatalf("server subscriptions = %d; want 3", got)
	}
	publish(pub("token.BTC.trade", `1`), pub("token.ETH.trade", `2`), pub("token.BTC.book.l2", `3`),
		pub("token.ETH.book", `"not matched"`), pub("token.BTC", `"not matched"`))
	got := map[string]string{}
	for range 3 {
		d := rec.next(t)
		if prev, dup := got[d.channel]; dup {
			t.Fatalf("%s delivered twice (%s, %s)", d.channel, prev, d.data)
		}
		got[d.channel] = d.data
	}
	want := map[string]string{"token.BTC.trade": `1`, "token.ETH.trade": `2`, "token.BTC.book.l2": `3`}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("deliveries = %v; want %v", got, want)
	}

	// Order and once-only on the overlapped channel, while the
	// subscriptions that overlap it come and go.
	b.Interest("token.*.trade", -1) // the owner: stays as a zombie
	flush(t, b)
	if got := ns.NumSubscriptions(); got != 3 {
		t.Fatalf("after releasing the oldest pattern: server subscriptions = %d; want 3 (zombie kept)", got)
	}
	for i := range 50 {
		publish(pub("token.BTC.trade", fmt.Sprint(i)))
	}
	for i := range 50 {
		rec.expect(t, "token.BTC.trade", fmt.Sprint(i))
	}
	b.Interest("token.BTC.trade", -1)
	b.Interest("token.BTC.>", -1) // the last: the zombie goes too
	flush(t, b)
	if got := ns.NumSubscriptions(); got != 0 {
		t.Fatalf("after releasing all: server subscriptions = %d; want 0", got)
	}
	b.Interest("global", +1)
	flush(t, b)
	publish(pub("token.BTC.trade", `"nobody"`), pub("global", `"end"`))
	rec.expect(t, "global", `"end"`)
	rec.none(t)
	if b.duplicates.Load() == 0 {
		t.Fatal("no duplicate copies were suppressed; the test does not test overlap")
	}
}

// TestInterestAll: one subscription to prefix + ">", everything delivered.
func TestInterestAll(t *testing.T) {
	ns := runServer(t, -1)
	rec := newRecorder()
	b := connect(t, testConfig(ns, InterestAll), rec.deliver)
	if got := ns.NumSubscriptions(); got != 1 {
		t.Fatalf("server subscriptions = %d; want 1", got)
	}
	b.Interest("token.BTC.trade", +1)
	b.Interest("token.*.trade", +1)
	flush(t, b)
	if got, mine := ns.NumSubscriptions(), b.Subscriptions(); got != 1 || mine != 1 {
		t.Fatalf("subscriptions = %d (server), %d (bridge); want 1", got, mine)
	}
	a := connect(t, testConfig(ns, InterestPerChannel), nil)
	want := []codec.Publication{pub("token.BTC.trade", `1`), pub("nobody.listens", `2`), pub("token.BTC.trade", `3`)}
	if err := a.Publish(want); err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for range want {
		d := rec.next(t)
		got[d.channel] = append(got[d.channel], d.data)
	}
	if fmt.Sprint(got) != "map[nobody.listens:[2] token.BTC.trade:[1 3]]" {
		t.Fatalf("deliveries = %v", got)
	}
}

// TestDropped: messages whose subject is not a channel, or whose body is not
// UTF-8 JSON, are dropped and counted.
func TestDropped(t *testing.T) {
	ns := runServer(t, -1)
	rec := newRecorder()
	b := connect(t, testConfig(ns, InterestAll), rec.deliver)
	nc := plainConn(t, ns)
	send := func(subject, body string) {
		t.Helper()
		if err := nc.Publish(subject, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	// Subjects NATS accepts but wsfan channels do not allow.
	send("odin.token.BTC:x.trade", `1`)
	send("odin.token.é", `1`)
	send("odin."+strings.Repeat("a.", 16)+"a", `1`)  // 17 tokens
	send("odin."+strings.Repeat("a", 129), `1`)      // 129 bytes
	send("odin.token.BTC.trade", `not json`)         // bodies, on a good channel
	send("odin.token.BTC.trade", "\"\xff\"")         // JSON string with invalid UTF-8
	send("odin.token.BTC.trade", ``)                 // empty
	send("odin.token.BTC.trade", `{"a":1} {"b":2}`)  // two values
	send("odin.token.BTC.trade", `  {"ok":true}   `) // fine
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	// The dispatcher checks subjects in arrival order, and the worker of
	// token.BTC.trade checks its bodies in order: once the good message is
	// delivered, all eight drops are counted.
	rec.expect(t, "token.BTC.trade", `{"ok":true}`)
	if got := b.Dropped(); got != 8 {
		t.Fatalf("Dropped() = %d; want 8", got)
	}
	if in, _ := b.Stats(); in != 1 {
		t.Fatalf("in = %d; want 1", in)
	}
	rec.none(t)
}

// TestStatusAndClose covers the states around Close.
func TestStatusAndClose(t *testing.T) {
	ns := runServer(t, -1)
	b := connect(t, testConfig(ns, InterestPerChannel), nil)
	if !b.Connected() || !strings.HasPrefix(b.Status(), "connected to nats://127.0.0.1:") {
		t.Fatalf("Connected() = %v, Status() = %q", b.Connected(), b.Status())
	}
	b.Interest("a", +1)
	b.Close()
	b.Close() // twice is fine
	if b.Connected() || b.Status() != "closed" {
		t.Fatalf("after Close: Connected() = %v, Status() = %q", b.Connected(), b.Status())
	}
	b.Interest("a", -1) // after Close: no panic
	b.Interest("b", +1)
	if err := b.Publish([]codec.Publication{pub("a", `1`)}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Publish after Close: err = %v; want ErrUnavailable", err)
	}
}

func TestConnectFails(t *testing.T) {
	ns := runServer(t, -1)
	url := ns.ClientURL()
	ns.Shutdown()
	_, err := Connect(Config{URLs: []string{url}}, func(string, []byte) {}, testLogger(t))
	if err == nil || !strings.Contains(err.Error(), "cannot connect to NATS") {
		t.Fatalf("Connect to a stopped server: err = %v", err)
	}
	if _, err := Connect(Config{}, func(string, []byte) {}, nil); err == nil {
		t.Fatal("Connect without URLs: no error")
	}
	if _, err := Connect(Config{URLs: []string{url}, Interest: "some"}, func(string, []byte) {}, nil); err == nil ||
		!strings.Contains(err.Error(), "nats.interest") {
		t.Fatalf("Connect with a bad config: err = %v", err)
	}
}

// TestOverlapChurn publishes a numbered stream on one channel while
// overlapping subscriptions come and go on the receiving node, some channel
// or pattern matching it held throughout: every number arrives once, in
// order.
func TestOverlapChurn(t *testing.T) {
	ns := runServer(t, -1)
	b, rec := listening(t, ns)
	a := connect(t, testConfig(ns, InterestPerChannel), nil)
	b.Interest("token.*.trade", +1)
	b.Interest("token.BTC.trade", +1) // held to the end
	flush(t, b)

	const n = 2000
	done := make(chan error, 1)
	go func() {
		for i := 0; i < n; i += 20 {
			var batch []codec.Publication
			for j := i; j < i+20; j++ {
				batch = append(batch, pub("token.BTC.trade", fmt.Sprint(j)))
			}
			if err := a.Publish(batch); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	churn := []struct {
		sub   string
		delta int
	}{
		{"token.*.trade", -1}, // owner becomes a zombie
		{"token.BTC.>", +1},
		{"token.*.trade", +1}, // revived
		{">", +1},
		{"token.BTC.>", -1},
		{"token.*.trade", -1},
		{">", -1},
		{"token.*.trade", +1}, // younger than token.BTC.trade now
		{"token.*.trade", -1},
		{"token.BTC.*", +1},
		{"token.BTC.*", -1},
	}
	for i := 0; ; i++ {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			for j := range n {
				rec.expect(t, "token.BTC.trade", fmt.Sprint(j))
			}
			if err := a.Publish([]codec.Publication{pub("token.BTC.trade", `"end"`)}); err != nil {
				t.Fatal(err)
			}
			rec.expect(t, "token.BTC.trade", `"end"`)
			rec.none(t)
			t.Logf("%d interest changes, %d duplicate copies suppressed", i, b.duplicates.Load())
			return
		default:
			c := churn[i%len(churn)]
			b.Interest(c.sub, c.delta)
		}
	}
}

// TestLost: when Deliver falls behind by more than pending_limit messages,
// NATS drops what does not fit and Lost counts it.
func TestLost(t *testing.T) {
	ns := runServer(t, -1)
	release := make(chan struct{})
	var delivered atomic.Uint64
	cfg := testConfig(ns, InterestPerChannel)
	cfg.PendingLimit = 64
	b := connect(t, cfg, func(string, []byte) {
		<-release
		delivered.Add(1)
	})
	b.Interest("c", +1)
	flush(t, b)
	a := connect(t, testConfig(ns, InterestPerChannel), nil)
	// What fits: the inbox, each worker's queue, one message in the
	// dispatcher's hand and one in each worker's.
	n := cfg.PendingLimit + len(b.workers)*(workerQueue+1) + 1 + 500
	for i := 0; i < n; i += 100 {
		var batch []codec.Publication
		for range min(100, n-i) {
			batch = append(batch, pub("c", `1`))
		}
		if err := a.Publish(batch); err != nil {
			t.Fatal(err)
		}
	}
	poll(t, "messages to be lost", func() bool { return b.Lost() > 0 })
	poll(t, "the gap to be counted", func() bool { return b.Gaps() > 0 })
	close(release)
	poll(t, "every message to be delivered or lost", func() bool {
		return delivered.Load()+b.Lost() == uint64(n)
	})
	if in, _ := b.Stats(); in != delivered.Load() {
		t.Fatalf("in = %d; delivered %d", in, delivered.Load())
	}
	b.Interest("c", -1) // the lost count survives the subscription
	if got := b.Lost(); got != uint64(n)-delivered.Load() {
		t.Fatalf("Lost() after unsubscribe = %d; want %d", got, uint64(n)-delivered.Load())
	}
}

// TestGoroutines: the bridge's goroutines do not grow with its subscriptions.
func TestGoroutines(t *testing.T) {
	ns := runServer(t, -1)
	b := connect(t, testConfig(ns, InterestPerChannel), nil)
	flush(t, b)
	before := runtime.NumGoroutine()
	for i := range 2000 {
		b.Interest(fmt.Sprintf("user.%d.favorites", i), +1)
	}
	flush(t, b)
	if got := ns.NumSubscriptions(); got != 2000 {
		t.Fatalf("server subscriptions = %d; want 2000", got)
	}
	if after := runtime.NumGoroutine(); after > before+10 {
		t.Fatalf("goroutines grew from %d to %d with 2000 subscriptions", before, after)
	}
}
