package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"wsfan/index"
)

// TestStreamSetup: the stream is created with wsfan's settings; a second
// node opens it and reports the same epoch; an incompatible stream is
// refused with what differs; a recreated stream has another epoch.
func TestStreamSetup(t *testing.T) {
	ns := runJetStream(t, -1, t.TempDir())
	cfg := jsConfig(ns)
	cfg.JetStream.MaxMsgsPerChannel = 7
	a := openStream(t, cfg, nil)
	info := streamInfo(t, ns)
	c := info.Config
	if c.Subjects[0] != "odin.>" || c.Storage != jetstream.FileStorage || c.MaxMsgsPerSubject != 7 ||
		c.MaxAge != time.Minute || c.Duplicates != time.Minute || !c.AllowDirect || !c.AllowAtomicPublish ||
		c.Retention != jetstream.LimitsPolicy || c.Discard != jetstream.DiscardOld || c.Replicas != 1 {
		t.Fatalf("stream config = %+v", c)
	}
	if a.MaxMsgsPerChannel() != 7 {
		t.Fatalf("MaxMsgsPerChannel() = %d", a.MaxMsgsPerChannel())
	}
	// Another node with other limits: the stream's apply.
	cfg2 := jsConfig(ns)
	cfg2.JetStream.MaxMsgsPerChannel = 50
	b := openStream(t, cfg2, nil)
	if a.Epoch() == "" || a.Epoch() != b.Epoch() || b.MaxMsgsPerChannel() != 7 {
		t.Fatalf("epochs %q, %q; b's depth %d", a.Epoch(), b.Epoch(), b.MaxMsgsPerChannel())
	}
	if len(a.Epoch()) != 11 || a.Epoch() != streamEpoch("WSFAN", info.Created) {
		t.Fatalf("epoch %q", a.Epoch())
	}
	if !strings.HasPrefix(a.Status(), "connected to nats://") || a.CatchingUp() {
		t.Fatalf("Status() = %q, CatchingUp() = %v", a.Status(), a.CatchingUp())
	}

	// Incompatible: another prefix is not covered; a work queue is not a
	// history.
	bad := jsConfig(ns)
	bad.SubjectPrefix = "other."
	if _, err := ConnectStream(bad, func(string, uint64, int64, []byte) {}, testLogger(t)); err == nil ||
		!strings.Contains(err.Error(), `do not cover "other.>"`) {
		t.Fatalf("stream on another prefix: err = %v", err)
	}
	js := jsPlain(t, ns)
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "WQ", Subjects: []string{"wq.>"},
		Retention: jetstream.WorkQueuePolicy, AllowDirect: false}); err != nil {
		t.Fatal(err)
	}
	wq := jsConfig(ns)
	wq.SubjectPrefix, wq.JetStream.Stream = "wq.", "WQ"
	_, err := ConnectStream(wq, func(string, uint64, int64, []byte) {}, testLogger(t))
	for _, want := range []string{"retention is WorkQueue", "allow_direct is off", "max_msgs_per_subject is unlimited"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("work queue stream: err = %v; want %q", err, want)
		}
	}

	// Recreated: a new epoch for a new node.
	a.Close()
	b.Close()
	if err := js.DeleteStream(ctx, "WSFAN"); err != nil {
		t.Fatal(err)
	}
	c2 := openStream(t, cfg, nil)
	if c2.Epoch() == a.Epoch() {
		t.Fatalf("recreated stream has the old epoch %q", a.Epoch())
	}
}

// TestStreamPublishDeliver: publications through one node reach every
// node with the same consecutive seqs, the data byte for byte; a new
// channel's numbering starts after the stream's last sequence.
func TestStreamPublishDeliver(t *testing.T) {
	ns := runJetStream(t, -1, t.TempDir())
	ra, rb := newSeqRecorder(), newSeqRecorder()
	a := openStream(t, jsConfig(ns), ra.deliver)
	b := openStream(t, jsConfig(ns), rb.deliver)
	ctx := context.Background()
	publishOne(t, a, "token.BTC.trade", `{"p":"1"}`)
	publishOne(t, b, "token.BTC.trade", `{"p":"2", "s":"é \"q\""}`)
	publishOne(t, a, "token.ETH.trade", `[1, 2.5e3,null]`)
	if err := b.Publish(ctx, []Pub{{Channel: "token.BTC.trade", Data: []byte(`3`)}, {Channel: "global", Data: []byte(`"g"`)}}); err != nil {
		t.Fatal(err)
	}
	// A new channel starts after the stream's last sequence as the
	// publishing node knows it: 1 on an empty stream, then more.
	ga := ra.waitFor(t, "5 deliveries", func(d []seqDelivery) bool { return len(d) >= 5 })
	gb := rb.waitFor(t, "5 deliveries", func(d []seqDelivery) bool { return len(d) >= 5 })
	if fmt.Sprint(ga) != fmt.Sprint(gb) {
		t.Fatalf("a got %v\nb got %v", ga, gb)
	}
	// The batch's two channels are published in parallel: either order.
	by := byChannel(ga)
	if fmt.Sprint(by["token.BTC.trade"]) != `[token.BTC.trade#1={"p":"1"} token.BTC.trade#2={"p":"2", "s":"é \"q\""} token.BTC.trade#3=3]` {
		t.Fatalf("token.BTC.trade: %v", by["token.BTC.trade"])
	}
	eth, global := by["token.ETH.trade"], by["global"]
	if len(eth) != 1 || eth[0].data != `[1, 2.5e3,null]` || eth[0].seq < 2 || eth[0].seq > 3 ||
		len(global) != 1 || global[0].data != `"g"` || global[0].seq < eth[0].seq || global[0].seq > 5 {
		t.Fatalf("got %v", ga)
	}
	if ga[0].ts <= 0 || time.Since(time.UnixMilli(ga[0].ts)) > time.Minute {
		t.Fatalf("ts %d", ga[0].ts)
	}
	if sa, sb := a.Stats(), b.Stats(); sa.In != 5 || sa.Out != 2 || sb.In != 5 || sb.Out != 3 {
		t.Fatalf("stats a %+v, b %+v", sa, sb)
	}
}

// TestStreamPublishRejects: what is refused before anything is sent.
func TestStreamPublishRejects(t *testing.T) {
	ns := runJetStream(t, -1, t.TempDir())
	s := openStream(t, jsConfig(ns), nil)
	ctx := context.Background()
	f := func(pubs []Pub, want error) {
		t.Helper()
		if err := s.Publish(ctx, pubs); !errors.Is(err, want) {
			t.Fatalf("Publish(%v) = %v; want %v", pubs, err, want)
		}
	}
	ok := Pub{Channel: "a", Data: []byte(`1`)}
	f([]Pub{ok, {Channel: "a.*", Data: []byte(`1`)}}, index.ErrInvalidChannel)
	f([]Pub{ok, {Channel: "a", Data: []byte(`1`), ID: strings.Repeat("x", 65)}}, ErrInvalidID)
	f([]Pub{{Channel: "a", Data: []byte(`1`), ID: "a\r\nb"}}, ErrInvalidID)
	f([]Pub{{Channel: "a", Data: []byte(`1`), ID: " a"}}, ErrInvalidID)
	f([]Pub{ok, {Channel: "a", Data: make([]byte, s.nc.MaxPayload())}}, ErrTooLarge)
	if st := s.Stats(); st.Out != 0 {
		t.Fatalf("stats %+v after rejected publishes", st)
	}
	if _, _, err := s.Since(ctx, "a.>", 0, 0); !errors.Is(err, index.ErrInvalidChannel) {
		t.Fatalf("Since on a pattern: %v", err)
	}
	s.Close()
	if err := s.Publish(ctx, []Pub{ok}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Publish after Close: %v", err)
	}
	if _, _, err := s.Since(ctx, "a", 0, 0); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Since after Close: %v", err)
	}
	if s.Status() != "closed" || !s.CatchingUp() {
		t.Fatalf("after Close: Status() = %q", s.Status())
	}
}

// TestStreamNodesAgree: three nodes publish concurrently on the same
// channels, single publications and multi-channel batches, while a plain
// JetStream publisher puts messages straight into the stream: every node
// delivers every publication once, with the same consecutive seq per
// channel.
func TestStreamNodesAgree(t *testing.T) {
	ns := runJetStream(t, -1, t.TempDir())
	const nodes, perNode, plain = 3, 60, 45
	channels := []string{"token.BTC.trade", "token.ETH.trade", "global"}
	recs := make([]*seqRecorder, nodes)
	streams := make([]*Stream, nodes)
	for i := range streams {
		recs[i] = newSeqRecorder()
		streams[i] = openStream(t, jsConfig(ns), recs[i].deliver)
	}
	js := jsPlain(t, ns)
	ctx := context.Background()
	var wg sync.WaitGroup
	var published atomic.Int64
	for n, s := range streams {
		wg.Go(func() {
			for i := 0; i < perNode; i++ {
				pubs := []Pub{{Channel: channels[i%3], Data: fmt.Appendf(nil, `"n%d-%d"`, n, i)}}
				if i%5 == 4 { // a batch over two channels, one of them twice
					i++
					pubs = append(pubs, Pub{Channel: channels[i%3], Data: fmt.Appendf(nil, `"n%d-%d"`, n, i)},
						Pub{Channel: pubs[0].Channel, Data: fmt.Appendf(nil, `"n%d-%d-b"`, n, i)})
				}
				if err := s.Publish(ctx, pubs); err != nil {
					t.Errorf("node %d: Publish: %v", n, err)
					return
				}
				published.Add(int64(len(pubs)))
			}
		})
	}
	wg.Go(func() {
		for i := range plain {
			if _, err := js.Publish(ctx, "odin."+channels[i%3], fmt.Appendf(nil, `"plain-%d"`, i)); err != nil {
				t.Errorf("plain publish: %v", err)
				return
			}
			published.Add(1)
		}
	})
	wg.Wait()
	if t.Failed() {
		return
	}
	total := int(published.Load())
	var first string
	for n, r := range recs {
		got := r.waitFor(t, fmt.Sprintf("node %d: %d deliveries", n, total), func(d []seqDelivery) bool { return len(d) >= total })
		checkConsecutive(t, fmt.Sprintf("node %d", n), got)
		if len(got) != total {
			t.Fatalf("node %d: %d deliveries; want %d", n, len(got), total)
		}
		if s := channelsString(got, channels); n == 0 {
			first = s
		} else if s != first {
			t.Fatalf("node %d delivered\n%s\nnode 0\n%s", n, s, first)
		}
	}
	// A channel's first message, when plain, starts its numbering; later
	// plain messages follow their predecessor.
	for n, s := range streams {
		if a := s.Stats().Anchors; a > uint64(len(channels)) {
			t.Fatalf("node %d: %d anchors", n, a)
		}
	}
}

// TestStreamDuplicateID: a publication retried with the same ID is stored
// and delivered once, alone or inside a batch (which then falls back to
// one by one, storing what is new).
func TestStreamDuplicateID(t *testing.T) {
	ns := runJetStream(t, -1, t.TempDir())
	r := newSeqRecorder()
	a := openStream(t, jsConfig(ns), r.deliver)
	b := openStream(t, jsConfig(ns), nil)
	ctx := context.Background()
	p1 := Pub{Channel: "orders", Data: []byte(`"first"`), ID: "req-1"}
	for _, s := range []*Stream{a, b, a} {
		if err := s.Publish(ctx, []Pub{p1}); err != nil {
			t.Fatal(err)
		}
	}
	batch := []Pub{p1, {Channel: "orders", Data: []byte(`"second"`), ID: "req-2"}, {Channel: "other", Data: []byte(`"x"`)}}
	for range 2 {
		if err := b.Publish(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	publishOne(t, a, "orders", `"end"`)
	got := r.waitData(t, `"end"`)
	if s := fmt.Sprint(byChannel(got)["orders"]); s != `[orders#1="first" orders#2="second" orders#3="end"]` {
		t.Fatalf("orders: %s", s)
	}
	if n := len(byChannel(got)["other"]); n != 2 {
		t.Fatalf("other delivered %d times; want 2 (it has no id)", n)
	}
}

// TestStreamRecovery: a client of a node that went away recovers what it
// missed from another node, which started after the publications: Since
// returns exactly the missed range, then live delivery continues with the
// next seq. Past max_msgs_per_channel, or from an unknown position, Since
// says not recovered.
func TestStreamRecovery(t *testing.T) {
	ns := runJetStream(t, -1, t.TempDir())
	cfg := jsConfig(ns)
	cfg.JetStream.MaxMsgsPerChannel = 100
	ra := newSeqRecorder()
	a := openStream(t, cfg, ra.deliver)
	pub := openStream(t, cfg, nil)
	const ch = "token.BTC.trade"
	for i := range 5 {
		publishOne(t, pub, ch, fmt.Sprint(i))
	}
	last := ra.waitData(t, "4")[4].seq
	a.Close() // the client's node goes away with the client's position

	for i := 5; i < 105; i++ {
		publishOne(t, pub, ch, fmt.Sprint(i))
	}
	rb := newSeqRecorder()
	b := openStream(t, cfg, rb.deliver)
	ctx := context.Background()
	msgs, ok, err := b.Since(ctx, ch, last, 0)
	if err != nil || !ok || len(msgs) != 100 {
		t.Fatalf("Since(%d) = %d messages, %v, %v; want 100, true", last, len(msgs), ok, err)
	}
	for i, m := range msgs {
		if m.Seq != last+1+uint64(i) || string(m.Data) != fmt.Sprint(5+i) || m.TS <= 0 {
			t.Fatalf("message %d: %+v", i, m)
		}
	}
	if pos, err := b.Position(ctx, ch); err != nil || pos != last+100 {
		t.Fatalf("Position = %d, %v; want %d", pos, err, last+100)
	}
	publishOne(t, pub, ch, `"live"`)
	if d := rb.waitData(t, `"live"`); len(d) != 1 || d[0].seq != last+101 {
		t.Fatalf("live after recovery: %v", d)
	}
	if pos, err := b.Position(ctx, ch); err != nil || pos != last+101 {
		t.Fatalf("Position after live = %d, %v", pos, err)
	}

	f := func(after uint64, limit, wantN int, wantOK bool) {
		t.Helper()
		msgs, ok, err := b.Since(ctx, ch, after, limit)
		if err != nil || ok != wantOK || len(msgs) != wantN {
			t.Fatalf("Since(%d, limit %d) = %d messages, %v, %v; want %d, %v", after, limit, len(msgs), ok, err, wantN, wantOK)
		}
	}
	f(last+101, 0, 0, true)  // up to date
	f(last+100, 0, 1, true)  // one missed
	f(last+1, 0, 100, true)  // the whole history (max_msgs_per_channel 100)
	f(last, 0, 0, false)     // 101 missed: evicted
	f(last+50, 10, 0, false) // over the limit
	f(last+102, 0, 0, false) // a seq never handed out
	if _, ok, err := b.Since(ctx, "never.published", 0, 0); ok || err != nil {
		t.Fatalf("Since on an empty channel: %v, %v", ok, err)
	}
	if pos, err := b.Position(ctx, "never.published"); pos != 0 || err != nil {
		t.Fatalf("Position on an empty channel: %d, %v", pos, err)
	}
}

// TestStreamPlainRecovery: a channel fed only by a plain publisher is
// recovered by a node that delivered it (its own numbering), not by a node
// that did not (the numbering would rest on an uncertain anchor), until a
// publication through Publish, whose header both follow, numbers the
// channel for certain.
func TestStreamPlainRecovery(t *testing.T) {
	ns := runJetStream(t, -1, t.TempDir())
	ra := newSeqRecorder()
	a := openStream(t, jsConfig(ns), ra.deliver)
	js := jsPlain(t, ns)
	for i := range 5 {
		plainPublish(t, js, "p", fmt.Sprint(i))
	}
	got := ra.waitData(t, "4")
	checkConsecutive(t, "a", got)
	ctx := context.Background()
	msgs, ok, err := a.Since(ctx, "p", got[1].seq, 0)
	if err != nil || !ok || datas(msgs) != "2 3 4" || msgs[0].Seq != got[2].seq {
		t.Fatalf("Since on the delivering node: %v, %v, %v", msgs, ok, err)
	}
	b := openStream(t, jsConfig(ns), nil)
	if msgs, ok, err := b.Since(ctx, "p", got[1].seq, 0); err != nil || ok {
		t.Fatalf("Since on a node that did not deliver: %v, %v, %v", msgs, ok, err)
	}
	publishOne(t, b, "p", "5") // numbered from b's reading of the stream
	got = ra.waitData(t, "5")
	checkConsecutive(t, "a", got)
	msgs, ok, err = b.Since(ctx, "p", got[1].seq, 0)
	if err != nil || !ok || datas(msgs) != "2 3 4 5" || msgs[3].Seq != got[5].seq {
		t.Fatalf("Since after a numbered publication: %v, %v, %v (a delivered %v)", msgs, ok, err, got)
	}
}

// TestStreamSlowDeliver: a DeliverSeq that takes longer than the consumer's
// silence limit (3 heartbeats) does not make the node re-create a consumer
// that is fine.
func TestStreamSlowDeliver(t *testing.T) {
	ns := runJetStream(t, -1, t.TempDir())
	r := newSeqRecorder()
	s := openStream(t, jsConfig(ns), func(ch string, seq uint64, ts int64, data []byte) {
		if string(data) == `"slow"` {
			time.Sleep(4 * testHeartbeat) // the slow part is the point
		}
		r.deliver(ch, seq, ts, data)
	})
	publishOne(t, s, "c", `"slow"`)
	publishOne(t, s, "c", `"next"`)
	if got := r.waitData(t, `"next"`); len(got) != 2 {
		t.Fatalf("got %v", got)
	}
	if st := s.Stats(); st.Resets != 0 {
		t.Fatalf("stats %+v: the consumer was re-created", st)
	}
}
