package server

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// commandCases are JSON-level abuse: malformed commands, deep nesting,
// channel names and limits. Each is answered with an error frame or an ack
// and the connection stays open (docs/protocol.md, "Client commands").
func commandCases(h *hostile) {
	s := h.s
	_ = s
	// --- Malformed JSON (docs/protocol.md: BAD_REQUEST, no id when the
	// frame is not JSON; an error frame never closes the connection).
	h.errorFrame("malformed JSON", `{"type":"subscribe",`, "BAD_REQUEST", "")
	h.errorFrame("truncated JSON", `{"type":"heartbeat","id":"t1"`, "BAD_REQUEST", "")
	h.errorFrame("truncated string", `{"type":"heartbeat","id":"t`, "BAD_REQUEST", "")
	h.errorFrame("empty text frame", ``, "BAD_REQUEST", "")
	h.errorFrame("two objects in one frame", `{"type":"heartbeat"}{"type":"heartbeat"}`, "BAD_REQUEST", "")
	h.errorFrame("JSON array", `[{"type":"heartbeat"}]`, "BAD_REQUEST", "")
	h.errorFrame("NUL bytes", "{\"type\":\"heartbeat\"\x00}", "BAD_REQUEST", "")
	h.errorFrame("unknown type", `{"type":"dance","id":"u1"}`, "BAD_REQUEST", "u1")
	h.errorFrame("type not a string", `{"type":["subscribe"],"id":"u2"}`, "BAD_REQUEST", "u2")
	h.errorFrame("type null", `{"type":null,"id":"u3"}`, "BAD_REQUEST", "u3")
	h.errorFrame("id over 64 bytes", `{"type":"heartbeat","id":"`+strings.Repeat("i", 65)+`"}`, "BAD_REQUEST", "")
	h.errorFrame("id not a string", `{"type":"heartbeat","id":{"x":1}}`, "BAD_REQUEST", "")
	h.errorFrame("channels not an array", `{"type":"subscribe","id":"c1","data":{"channels":{"a":1}}}`, "BAD_REQUEST", "c1")
	h.errorFrame("channels empty", `{"type":"subscribe","id":"c2","data":{"channels":[]}}`, "BAD_REQUEST", "c2")
	h.errorFrame("channel not a string", `{"type":"subscribe","id":"c3","data":{"channels":["a.b",null]}}`, "BAD_REQUEST", "c3")
	h.errorFrame("since not an object", `{"type":"subscribe","id":"c4","data":{"channels":["a.b"],"since":[1]}}`, "BAD_REQUEST", "c4")
	h.errorFrame("since with a negative seq", `{"type":"subscribe","id":"c5","data":{"channels":["a.b"],"since":{"a.b":{"epoch":"e","seq":-1}}}}`, "BAD_REQUEST", "c5")

	// --- Deep nesting: within max_message_bytes it is parsed in linear
	// time (an ignored field is ignored however deep); over it, 1009.
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	h.answered("deep nesting in an ignored field", `{"type":"heartbeat","x":`+deep(2000)+`}`, "pong")
	h.errorFrame("deep nesting unbalanced", strings.Repeat("[", 4000), "BAD_REQUEST", "")
	h.errorFrame("deep nesting as a channel", `{"type":"subscribe","id":"n1","data":{"channels":[`+deep(1900)+`]}}`, "BAD_REQUEST", "n1")
	h.answered("number with a huge exponent", `{"type":"heartbeat","x":1e999999999}`, "pong")
	h.add("deep nesting over max_message_bytes", func(t *testing.T) string {
		c := dial(t, s)
		c.send(strings.Repeat("[", 10000))
		code, reason := c.closeCode(5 * time.Second)
		if code != 1009 || reason != "message too big" {
			t.Fatalf("close %d %q; want 1009 \"message too big\"", code, reason)
		}
		return describeClose(code, reason)
	})

	// --- Channel names.
	h.add("many channels past max_subscriptions_per_conn", func(t *testing.T) string {
		c := dial(t, s)
		limit := s.cfg.MaxSubscriptionsPerConn
		chans := make([]string, limit+limit/2)
		for i := range chans {
			chans[i] = fmt.Sprintf("c%d", i)
		}
		first := c.subscribe("m1", chans[:limit/2]...)
		ack := c.subscribe("m2", chans[limit/2:]...)
		if *first.Count != limit/2 || *ack.Count != limit || len(ack.Subscribed) != limit-limit/2 || ack.Subscribed[0] != chans[limit/2] || len(ack.Rejected) != len(chans)-limit {
			t.Fatalf("ack count %d, %d subscribed, %d rejected; want %d, %d, %d",
				*ack.Count, len(ack.Subscribed), len(ack.Rejected), limit, limit-limit/2, len(chans)-limit)
		}
		for _, r := range ack.Rejected {
			if r.Code != "TOO_MANY_SUBSCRIPTIONS" {
				t.Fatalf("rejected %+v; want TOO_MANY_SUBSCRIPTIONS", r)
			}
		}
		if n := s.hub.Index().Subscriptions(); n != limit+1 {
			t.Fatalf("index holds %d subscriptions; want %d", n, limit+1)
		}
		alive(t, c)
		return fmt.Sprintf("subscription_ack count %d, %d rejected TOO_MANY_SUBSCRIPTIONS (%d-byte ack)", *ack.Count, len(ack.Rejected), len(ack.raw))
	})
	h.add("more channels than max_channels_per_command", func(t *testing.T) string {
		c := dial(t, s)
		chans := make([]string, s.cfg.MaxChannelsPerCommand+1)
		for i := range chans {
			chans[i] = fmt.Sprintf("x%d", i)
		}
		c.send(`{"type":"unsubscribe","id":"u","data":{"channels":["` + strings.Join(chans, `","`) + `"]}}`)
		e := c.expect("error")
		if e.Code != "TOO_MANY_SUBSCRIPTIONS" || e.ID != "u" {
			t.Fatalf("unsubscribe of %d channels -> %s; want TOO_MANY_SUBSCRIPTIONS", len(chans), e.raw)
		}
		alive(t, c)
		return fmt.Sprintf("error %s %q; connection open", e.Code, e.Message)
	})
	h.add("one channel repeated 100 times", func(t *testing.T) string {
		c := dial(t, s)
		ack := c.subscribe("r", slices.Repeat([]string{"dup.ch"}, 100)...)
		if *ack.Count != 1 || len(ack.Subscribed) != 1 || len(ack.Rejected) != 0 {
			t.Fatalf("ack %s; want one subscription", ack.raw)
		}
		return string(ack.raw)
	})
	h.add("channel names of 128 and 129 bytes", func(t *testing.T) string {
		c := dial(t, s)
		ok := strings.Repeat("a", 64) + "." + strings.Repeat("b", 63)
		long := ok + "b"
		ack := c.subscribe("l", ok, long)
		if *ack.Count != 1 || len(ack.Subscribed) != 1 || ack.Subscribed[0] != ok ||
			len(ack.Rejected) != 1 || ack.Rejected[0].Channel != long || ack.Rejected[0].Code != "INVALID_CHANNEL" {
			t.Fatalf("ack %s; want 128 bytes subscribed, 129 INVALID_CHANNEL", ack.raw)
		}
		return "128 bytes subscribed; 129 bytes rejected INVALID_CHANNEL"
	})
	h.add("channel names with bad characters", func(t *testing.T) string {
		c := dial(t, s)
		bad := []string{"", "a b", "a/b", "a..b", ".a", "a.", "ä.b", "a\x00b", "a\tb", "\ufffd",
			"a:b", "a.>.b", "*x", "a" + strings.Repeat(".a", 16), "<script>"}
		ack := c.subscribe("b", bad...)
		if *ack.Count != 0 || len(ack.Subscribed) != 0 || !strings.Contains(string(ack.raw), `"subscribed":[]`) || len(ack.Rejected) != len(bad) {
			t.Fatalf("ack %s; want all %d rejected", ack.raw, len(bad))
		}
		for i, r := range ack.Rejected {
			if r.Channel != bad[i] || r.Code != "INVALID_CHANNEL" {
				t.Fatalf("rejected[%d] %+v; want %q INVALID_CHANNEL", i, r, bad[i])
			}
		}
		return fmt.Sprintf("all %d rejected INVALID_CHANNEL, count 0", len(bad))
	})
	h.add("lone surrogate escape in a channel", func(t *testing.T) string {
		c := dial(t, s)
		c.send(`{"type":"subscribe","id":"s","data":{"channels":["a.\ud800"]}}`)
		ack := c.expect("subscription_ack")
		if *ack.Count != 0 || len(ack.Rejected) != 1 || ack.Rejected[0].Code != "INVALID_CHANNEL" {
			t.Fatalf("ack %s; want INVALID_CHANNEL", ack.raw)
		}
		return string(ack.raw)
	})

}
