package hub

import (
	"fmt"
	"testing"
	"time"

	"wsfan/codec"
	"wsfan/conn"
)

// TestPublishPanicIsContained makes deliver panic for one channel: the
// panic is counted, the rest of the batch is delivered, and neither the
// channel's lock nor a pattern's is left held.
func TestPublishPanicIsContained(t *testing.T) {
	h, env := newTestHub(t, nil)
	c, rec := dial(env)
	h.Subscribe(c, "1", []string{"token.ok.trade", "token.bad.trade", "token.*.trade"}, nil, nil)
	if ack := rec.next(t); ack["type"] != "subscription_ack" {
		t.Fatalf("got %v; want the ack", ack)
	}
	testHookDeliver = func(channel string) {
		if channel == "token.bad.trade" {
			panic("test panic")
		}
	}
	defer func() { testHookDeliver = nil }()
	h.Publish([]codec.Publication{{Channel: "token.bad.trade", Data: []byte(`1`)}, {Channel: "token.ok.trade", Data: []byte(`2`)}})
	if m := rec.next(t); m["channel"] != "token.ok.trade" {
		t.Fatalf("got %v; want the ok channel's message", m)
	}
	if got := h.m.publishPanics.Get(); got != 1 {
		t.Fatalf("wsfan_publish_panics_total = %d; want 1", got)
	}
	testHookDeliver = nil
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.Publish([]codec.Publication{{Channel: "token.bad.trade", Data: []byte(`3`)}})
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a publication to the channel that panicked blocks: its lock is held")
	}
	if m := rec.next(t); m["channel"] != "token.bad.trade" || m["data"] != 3.0 {
		t.Fatalf("got %v; want the message after the panic", m)
	}
	h.Unsubscribe(c, "u", []string{"token.*.trade"}) // the pattern's lock is free too
	if m := rec.next(t); m["type"] != "unsubscription_ack" {
		t.Fatalf("got %v; want the unsubscription ack", m)
	}
}

// TestLeaveDropsEntries subscribes connections to a channel, a pattern and
// a channel of their own, publishes, then lets them all leave: the entries
// nobody published to are gone, and the channel published to stays, with
// no member, so that its seq goes on.
func TestLeaveDropsEntries(t *testing.T) {
	h, env := newTestHub(t, nil)
	const n = 100
	conns := make([]*conn.Conn, n)
	recs := make([]*recorder, n)
	for i := range conns {
		conns[i], recs[i] = dial(env)
		h.Subscribe(conns[i], "s", []string{"token.a.trade", "token.*.ticker", fmt.Sprintf("user.%d.favorites", i)}, nil, nil)
	}
	if got := h.idx.Subscriptions(); got != 3*n {
		t.Fatalf("%d subscriptions; want %d", got, 3*n)
	}
	h.Publish([]codec.Publication{{Channel: "token.a.trade", Data: []byte(`1`)}})
	for _, rec := range recs {
		rec.next(t) // the ack
		if m := rec.next(t); m["seq"] != 1.0 {
			t.Fatalf("got %v; want seq 1", m)
		}
	}
	for _, c := range conns {
		c.Lock()
		held := *c.Subs()
		*c.Subs() = conn.Subs{}
		c.Unlock()
		h.Leave(held)
	}
	if got := h.idx.Subscriptions(); got != 0 {
		t.Fatalf("%d subscriptions after every connection left", got)
	}
	if e, p := h.idx.Entries(), h.idx.Patterns(); e != 1 || p != 0 {
		t.Fatalf("%d channel entries and %d patterns left; want the published channel only", e, p)
	}
	c, rec := dial(env)
	h.Subscribe(c, "again", []string{"token.a.trade"}, nil, nil)
	rec.next(t)
	h.Publish([]codec.Publication{{Channel: "token.a.trade", Data: []byte(`2`)}})
	if m := rec.next(t); m["seq"] != 2.0 {
		t.Fatalf("got %v; want seq 2: the numbering goes on", m)
	}
}
