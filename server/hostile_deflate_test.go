package server

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"wsfan/ws/wstest"
)

// deflateCases are permessage-deflate abuse (RFC 7692): bombs, RSV1 where
// it does not belong, broken deflate streams, and offers the server must
// decline without failing the upgrade.
func deflateCases(h *hostile) {
	s := h.s
	// closedZ: frames sent on a connection that negotiated deflate are
	// answered with a close.
	closedZ := func(name string, wantCode int, wantReason string, frames ...[]byte) {
		h.add(name, func(t *testing.T) string {
			rc, ext := rawUpgradeWith(t, s, deflateOffer)
			if ext == "" {
				t.Fatal("deflate not negotiated")
			}
			rc.write(concat(frames...))
			code, reason, before := rc.closeResult(6 * time.Second)
			if code != wantCode || reason != wantReason || len(before) > 0 {
				t.Fatalf("got %s after %d frames; want %s", describeClose(code, reason), len(before), describeClose(wantCode, wantReason))
			}
			return describeClose(code, reason)
		})
	}
	heartbeat := []byte(`{"type":"heartbeat"}`)
	z := deflateClient(heartbeat)

	// A bomb: 1 MiB of spaces in a ~1 KB frame, under max_message_bytes
	// compressed, far over it inflated.
	bomb := deflateClient(bytes.Repeat([]byte(" "), 1<<20))
	closedZ("deflate bomb (1 MiB in 1 KB)", 1009, "message too big", wstest.Frame(0xC1, bomb, false))
	closedZ("deflate bomb split in fragments", 1009, "message too big",
		wstest.Frame(0x41, bomb[:len(bomb)/2], false), wstest.Frame(0x80, bomb[len(bomb)/2:], false))
	closedZ("RSV1 on a continuation frame", 1002, "RSV1 set on a control or continuation frame",
		wstest.Frame(0x41, z[:2], false), wstest.Frame(0xC0, z[2:], false))
	closedZ("RSV1 on a ping", 1002, "RSV1 set on a control or continuation frame", wstest.Frame(0xC9, nil, false))
	closedZ("RSV2 with deflate negotiated", 1002, "reserved bits set", wstest.Frame(0xA1, heartbeat, false))
	closedZ("deflate stream of garbage", 1007, "invalid compressed data", wstest.Frame(0xC1, []byte{0xff, 0xff, 0xff, 0xff}, false))
	closedZ("deflate stream with a bad stored block", 1007, "invalid compressed data", wstest.Frame(0xC1, []byte{0x00, 0x05, 0x00, 0x00, 0x00, 'x'}, false))
	closedZ("inflated text not UTF-8", 1007, "text message not UTF-8", wstest.Frame(0xC1, deflateClient([]byte("{\"type\":\"heartbeat\",\"x\":\"\xff\"}")), false))
	h.add("truncated deflate stream", func(t *testing.T) string {
		// Cut mid-block: what it inflates to (an error, or a prefix of the
		// command) must not pass for the command.
		rc, _ := rawUpgradeWith(t, s, deflateOffer)
		long := deflateClient([]byte(`{"type":"subscribe","id":"cut","data":{"channels":["` + strings.Repeat("a", 100) + `"]}}`))
		rc.write(wstest.Frame(0xC1, long[:len(long)/2], false))
		code, reason, before := rc.closeResult(6 * time.Second)
		if len(before) > 0 && bytes.Contains(before[0].Payload, []byte("subscription_ack")) {
			t.Fatalf("a truncated stream was taken for the command: %q", before[0].Payload)
		}
		if code != 1007 {
			t.Fatalf("got %s; want 1007", describeClose(code, reason))
		}
		return describeClose(code, reason)
	})
	h.add("compressed fragmented command", func(t *testing.T) string {
		rc, _ := rawUpgradeWith(t, s, deflateOffer)
		rc.write(concat(wstest.Frame(0x41, z[:3], false), wstest.Frame(0x00, z[3:5], false), wstest.Frame(0x80, z[5:], false)))
		rc.expectJSON("pong")
		return "answered: pong"
	})
	h.add("compressed and plain messages mixed", func(t *testing.T) string {
		rc, _ := rawUpgradeWith(t, s, deflateOffer)
		rc.write(concat(wstest.Frame(0xC1, z, false), wstest.Text(string(heartbeat)), wstest.Frame(0xC1, z, false)))
		for range 3 {
			rc.expectJSON("pong")
		}
		return "answered: 3 pongs"
	})

	// Offers the server cannot honour, or malformed ones: declined (101
	// without the extension), never a failed upgrade.
	for _, offer := range []string{
		"permessage-deflate; server_max_window_bits=8",
		"permessage-deflate; foo",
		"permessage-deflate; client_no_context_takeover; client_no_context_takeover",
		"permessage-deflate; client_max_window_bits=99",
		`permessage-deflate; client_max_window_bits="10`,
		"permessage-deflate; server_no_context_takeover=yes",
		";;;,,,permessage-deflate=1",
		strings.Repeat("permessage-deflate; x, ", 200),
	} {
		h.add(fmt.Sprintf("offer %.50q", offer), func(t *testing.T) string {
			rc, ext := rawUpgradeWith(t, s, "Sec-WebSocket-Extensions: "+offer+"\r\n")
			if ext != "" {
				t.Fatalf("accepted with %q", ext)
			}
			rc.write(wstest.Text(string(heartbeat)))
			rc.expectJSON("pong")
			rc.write(wstest.Frame(0xC1, z, false))
			code, reason, _ := rc.closeResult(6 * time.Second)
			if code != 1002 {
				t.Fatalf("RSV1 after a declined offer: %s; want 1002", describeClose(code, reason))
			}
			return "101 without the extension; RSV1 then closes 1002"
		})
	}
}
