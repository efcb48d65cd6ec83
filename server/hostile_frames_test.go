package server

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"wsfan/ws/wstest"
)

// frameCases are frame-level abuse over raw sockets: each RFC 6455 rule a
// server must enforce, floods, and odd but valid framing
// (docs/protocol.md, "Close codes").
func frameCases(h *hostile) {
	s := h.s
	_ = s
	// --- Frame types and payloads.
	h.add("binary frame", func(t *testing.T) string {
		rc := rawUpgrade(t, s)
		rc.write(wstest.Frame(wstest.FinBinary, []byte(`{"type":"heartbeat"}`), false))
		e := rc.expectJSON("error")
		if e.Code != "BAD_REQUEST" {
			t.Fatalf("binary frame -> %s; want BAD_REQUEST", e.raw)
		}
		rc.write(wstest.Text(`{"type":"heartbeat"}`))
		rc.expectJSON("pong")
		return fmt.Sprintf("error %s %q; connection open", e.Code, e.Message)
	})
	h.add("invalid UTF-8 in a text frame", func(t *testing.T) string {
		c := dial(t, s)
		c.send("{\"type\":\"heartbeat\",\"x\":\"\xff\xfe\"}")
		// RFC 6455 section 8.1: 1007.
		code, reason := c.closeCode(5 * time.Second)
		if code != 1007 || reason != "text message not UTF-8" {
			t.Fatalf("close %d %q; want 1007 \"text message not UTF-8\"", code, reason)
		}
		return describeClose(code, reason)
	})

	// --- Frame-level abuse over raw sockets.
	hdr64 := func(n uint64) []byte { // text frame header with a 64-bit length, masked, no payload
		return append(binary.BigEndian.AppendUint64([]byte{wstest.FinText, 0x80 | 127}, n), wstest.Mask...)
	}
	h.closed("64-bit length with the top bit set", 1002, "invalid frame length", hdr64(1<<63|5))
	h.closed("64-bit length of 1 TiB", 1009, "message too big", hdr64(1<<40))
	h.closed("16-bit length over max_message_bytes", 1009, "message too big", []byte{wstest.FinText, 0x80 | 126, 0xFF, 0xFF})
	h.closed("fragments summing over max_message_bytes", 1009, "message too big",
		wstest.Frame(0x01, []byte(strings.Repeat(" ", 2000)), false),
		wstest.Frame(0x00, []byte(strings.Repeat(" ", 2000)), false),
		wstest.Frame(0x80, []byte(strings.Repeat(" ", 2000)), false))
	// RFC 6455 section 5.5: a control frame over 125 bytes, or
	// fragmented, is a protocol error.
	h.closed("ping over 125 bytes", 1002, "control frame over 125 bytes", wstest.Frame(wstest.FinPing, make([]byte, 126), false))
	h.closed("close over 125 bytes", 1002, "control frame over 125 bytes", wstest.Frame(wstest.FinClose, wstest.ClosePayload(1000, strings.Repeat("r", 124)), false))
	h.closed("fragmented ping", 1002, "fragmented control frame", wstest.Frame(0x09, []byte("p"), false))
	h.closed("RSV1 set", 1002, "RSV1 set without permessage-deflate", wstest.Frame(0xC1, []byte(`{"type":"heartbeat"}`), false))
	h.closed("RSV2 set", 1002, "reserved bits set", wstest.Frame(0xA1, []byte(`{"type":"heartbeat"}`), false))
	h.closed("RSV3 set", 1002, "reserved bits set", wstest.Frame(0x91, []byte(`{"type":"heartbeat"}`), false))
	h.closed("reserved data opcode 3", 1002, "reserved opcode", wstest.Frame(0x83, []byte("x"), false))
	h.closed("reserved control opcode 0xB", 1002, "reserved opcode", wstest.Frame(0x8B, []byte("x"), false))
	h.closed("continuation without a start", 1002, "continuation frame without a message to continue", wstest.Frame(0x80, []byte(`{"type":"heartbeat"}`), false))
	h.closed("new text frame inside a fragmented message", 1002, "new message inside a fragmented message",
		wstest.Frame(0x01, []byte(`{"type":`), false), wstest.Text(`{"type":"heartbeat"}`))
	h.closed("close with a reserved code", 1002, "invalid close code", wstest.Frame(wstest.FinClose, wstest.ClosePayload(1005, ""), false))
	h.closed("close with code 1015", 1002, "invalid close code", wstest.Frame(wstest.FinClose, wstest.ClosePayload(1015, ""), false))
	h.closed("close with a one-byte payload", 1002, "close frame with a 1-byte payload", wstest.Frame(wstest.FinClose, []byte{3}, false))
	h.closed("close with an invalid UTF-8 reason", 1007, "close reason not UTF-8", wstest.Frame(wstest.FinClose, wstest.ClosePayload(1001, "\xc3\x28"), false))
	// docs/protocol.md: a close the client starts is answered with the same
	// code; one without a code, with none.
	h.closed("client close without a code", 1005, "", wstest.Frame(wstest.FinClose, nil, false))
	h.closed("client close 4000", 4000, "bye", wstest.Frame(wstest.FinClose, wstest.ClosePayload(4000, "bye"), false))
	h.add("unmasked client frame", func(t *testing.T) string {
		rc := rawUpgrade(t, s)
		rc.write(wstest.Frame(wstest.FinText, []byte(`{"type":"heartbeat"}`), true))
		// RFC 6455 section 5.1: the server MUST close the connection.
		code, reason, before := rc.closeResult(6 * time.Second)
		if code != 1002 || reason != "frame not masked" || len(before) > 0 {
			t.Fatalf("got %s after %d frames; want close 1002 \"frame not masked\"", describeClose(code, reason), len(before))
		}
		return describeClose(code, reason)
	})
	h.add("fragmented text with a ping between fragments", func(t *testing.T) string {
		rc := rawUpgrade(t, s)
		rc.write(concat(
			wstest.Frame(0x01, []byte(`{"type":`), false),
			wstest.Frame(wstest.FinPing, []byte("mid"), false),
			wstest.Frame(0x80, []byte(`"heartbeat"}`), false)))
		if f := rc.next(); f.Op != 0xA || string(f.Payload) != "mid" {
			t.Fatalf("got opcode %d %q; want the pong \"mid\" first", f.Op, f.Payload)
		}
		rc.expectJSON("pong")
		return "pong frame, then the reassembled command's pong"
	})
	h.add("ping with a payload and an unsolicited pong", func(t *testing.T) string {
		rc := rawUpgrade(t, s)
		payload := []byte(strings.Repeat("\x00\xff", 62) + "!")
		rc.write(concat(wstest.Frame(wstest.FinPong, []byte("unasked"), false), wstest.Frame(wstest.FinPing, payload, false)))
		if f := rc.next(); f.Op != 0xA || string(f.Payload) != string(payload) {
			t.Fatalf("got opcode %d %q; want a pong echoing the 125-byte payload", f.Op, f.Payload)
		}
		rc.write(wstest.Text(`{"type":"heartbeat"}`))
		rc.expectJSON("pong")
		return "pong echoes the payload; the unsolicited pong is ignored"
	})
	h.add("ping flood", func(t *testing.T) string {
		// Pings count against the command rate: past the burst they get no
		// pong, and a client that keeps on is closed as for commands.
		rc := rawUpgrade(t, s)
		const n, batch = 3000, 100
		payload := []byte(strings.Repeat("p", 125))
		frames := slices.Repeat(wstest.Frame(wstest.FinPing, payload, false), batch)
		go func() { // write while the test reads; fails once the server closes
			for i := 0; i < n; i += batch {
				if err := rc.tryWrite(frames); err != nil {
					return
				}
			}
		}()
		pongs := 0
		for {
			f := rc.next()
			if f.Op == 0x8 {
				code, reason := wstest.CloseOf(f.Payload)
				if code != 1008 || reason != "rate limited" {
					t.Fatalf("ping flood closed with %d %q; want 1008 \"rate limited\"", code, reason)
				}
				break
			}
			if f.Op != 0xA || len(f.Payload) != len(payload) {
				t.Fatalf("flood answered opcode %d with %d bytes", f.Op, len(f.Payload))
			}
			pongs++
		}
		if pongs > 300 {
			t.Fatalf("%d pongs for a flood of %d pings; want about the burst (200)", pongs, n)
		}
		return fmt.Sprintf("%d pongs (the burst), then close 1008 \"rate limited\"", pongs)
	})
	h.add("command flood", func(t *testing.T) string {
		rc := rawUpgrade(t, s)
		cmd := func(i int) []byte {
			return wstest.Text(fmt.Sprintf(`{"type":"subscribe","id":"%d","data":{"channels":["flood.ch"]}}`, i))
		}
		// 300 commands in one write: the burst (command_burst = 200) is
		// served, the rest answered RATE_LIMITED with their id.
		var b []byte
		for i := 0; i < 300; i++ {
			b = append(b, cmd(i)...)
		}
		rc.write(b)
		acks, limited := 0, 0
		for i := 0; i < 300; i++ {
			f := rc.next()
			var fr frame
			_ = json.Unmarshal(f.Payload, &fr)
			switch {
			case fr.Type == "subscription_ack":
				acks++
			case fr.Type == "error" && fr.Code == "RATE_LIMITED" && fr.ID == fmt.Sprint(i):
				limited++
			default:
				t.Fatalf("reply %d: %q", i, f.Payload)
			}
		}
		burst := s.cfg.Limits.CommandBurst
		if acks < burst || limited == 0 {
			t.Fatalf("%d acks and %d RATE_LIMITED for 300 commands; want at least %d acks and some RATE_LIMITED", acks, limited, burst)
		}
		// Going on past the episode's allowance of limited commands
		// (max(burst, rate*grace) = 500) closes the connection.
		b = b[:0]
		for i := 300; i < 1300; i++ {
			b = append(b, cmd(i)...)
		}
		_ = rc.tryWrite(b)
		code, reason, before := rc.closeResult(6 * time.Second)
		if code != 1008 || reason != "rate limited" {
			t.Fatalf("after 1300 commands: %s; want close 1008 \"rate limited\"", describeClose(code, reason))
		}
		// Before the close: what the bucket refilled meanwhile (100/s) was
		// served, the rest RATE_LIMITED.
		for _, f := range before {
			var fr frame
			if json.Unmarshal(f.Payload, &fr) != nil || (fr.Code != "RATE_LIMITED" && fr.Type != "subscription_ack") {
				t.Fatalf("before the close: %q; want only acks and RATE_LIMITED errors", f.Payload)
			}
		}
		return fmt.Sprintf("%d acks, %d RATE_LIMITED of the first 300; then %d frames and %s", acks, limited, len(before), describeClose(code, reason))
	})
	h.add("frames in 1-byte TCP writes", func(t *testing.T) string {
		rc := rawDial(t, s)
		req := []byte(upgradeRequest(""))
		for i := range req {
			rc.write(req[i : i+1])
		}
		rc.expectUpgraded()
		frames := concat(
			wstest.Text(`{"type":"subscribe","id":"slow","data":{"channels":["byte.by.byte"]}}`),
			wstest.Frame(wstest.FinPing, []byte("x"), false))
		for i := range frames {
			rc.write(frames[i : i+1])
		}
		ack := rc.expectJSON("subscription_ack")
		if ack.ID != "slow" || *ack.Count != 1 {
			t.Fatalf("ack %s", ack.raw)
		}
		if f := rc.next(); f.Op != 0xA || string(f.Payload) != "x" {
			t.Fatalf("got opcode %d %q; want pong \"x\"", f.Op, f.Payload)
		}
		return fmt.Sprintf("%d + %d one-byte writes: 101, subscription_ack, pong", len(req), len(frames))
	})
	h.add("two frames in one write", func(t *testing.T) string {
		rc := rawUpgrade(t, s)
		rc.write(concat(wstest.Text(`{"type":"subscribe","id":"1","data":{"channels":["two.a"]}}`),
			wstest.Text(`{"type":"unsubscribe","id":"2","data":{"channels":["two.a"]}}`)))
		a := rc.expectJSON("subscription_ack")
		u := rc.expectJSON("unsubscription_ack")
		if a.ID != "1" || u.ID != "2" || *u.Count != 0 {
			t.Fatalf("replies %s %s", a.raw, u.raw)
		}
		return "subscription_ack then unsubscription_ack, in order"
	})
	h.add("frame sent before the 101", func(t *testing.T) string {
		rc := rawDial(t, s)
		rc.write(append([]byte(upgradeRequest("")), wstest.Text(`{"type":"heartbeat"}`)...))
		// RFC 6455 section 4.1: a client must wait for the 101 before it
		// sends a frame. nbio runs the upgrade handler on another goroutine
		// while its HTTP parser reads the frame as the next request, so the
		// connection is dropped, usually before the 101. Only a hang or a
		// leak (checked at the end) would be wrong.
		status, _, err := rc.response()
		if status != http.StatusSwitchingProtocols {
			if status != 0 {
				t.Fatalf("answered %d; want 101 or nothing", status)
			}
			return "closed without an HTTP answer (" + err.Error() + ")"
		}
		code, reason, before := rc.closeResult(6 * time.Second)
		if len(before) > 0 {
			return fmt.Sprintf("101, then served: %q", before[0].Payload)
		}
		return "101, then " + describeClose(code, reason)
	})

}
