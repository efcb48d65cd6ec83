package server

import (
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"wsfan/codec"
	"wsfan/ws/wstest"
)

// peerCases are peers that misbehave at the TCP level: stop reading, leave
// half-way, reset. The server must close or clean up after each; the
// harness checks that nothing stays counted.
func peerCases(h *hostile) {
	s := h.s
	h.add("peer stops reading", func(t *testing.T) string {
		// A small receive buffer, so that the server's queue, not the
		// kernel's, fills up.
		d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
			return rc.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		}}
		c, err := d.Dial("tcp", s.PublicAddr())
		if err != nil {
			t.Fatal(err)
		}
		rc := newRawConn(t, c)
		rc.write([]byte(upgradeRequest("")))
		rc.expectUpgraded()
		rc.write(wstest.Text(`{"type":"subscribe","id":"s","data":{"channels":["hostile.flood"]}}`))
		rc.expectJSON("subscription_ack")
		// Publish until the server gives up on it: max_pending_bytes plus
		// what the kernel buffers.
		big := []codec.Publication{{Channel: "hostile.flood", Data: []byte(`"` + strings.Repeat("x", 60<<10) + `"`)}}
		for i := 0; i < 200 && counter(s, "wsfan_slow_consumer_disconnects_total") == 0; i++ {
			s.hub.Publish(big)
		}
		if counter(s, "wsfan_slow_consumer_disconnects_total") == 0 {
			t.Fatalf("never closed as a slow consumer")
		}
		code, reason, _ := rc.closeResult(10 * time.Second)
		if code != 1008 || reason != "slow consumer" {
			t.Fatalf("got %s; want close 1008 \"slow consumer\"", describeClose(code, reason))
		}
		return "queued data, then close 1008 \"slow consumer\""
	})
	h.add("peer half-closes after subscribing", func(t *testing.T) string {
		rc := rawUpgrade(t, s)
		rc.write(wstest.Text(`{"type":"subscribe","id":"s","data":{"channels":["hostile.half"]}}`))
		rc.expectJSON("subscription_ack")
		_ = rc.c.(*net.TCPConn).CloseWrite()
		_ = rc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := rc.r.ReadByte(); err == nil {
			t.Fatal("the server sent more after the peer's FIN")
		} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("the server keeps a half-closed connection open")
		}
		return "TCP closed by the server, the subscription removed"
	})
	h.add("peer resets mid-frame", func(t *testing.T) string {
		rc := rawUpgrade(t, s)
		frame := wstest.Text(`{"type":"subscribe","id":"s","data":{"channels":["hostile.reset"]}}`)
		rc.write(frame[:len(frame)/2])
		_ = rc.c.(*net.TCPConn).SetLinger(0)
		_ = rc.c.Close()
		return "reset; nothing left behind"
	})
	h.add("peer leaves before the 101", func(t *testing.T) string {
		rc := rawDial(t, s)
		rc.write([]byte(upgradeRequest("")))
		_ = rc.c.(*net.TCPConn).SetLinger(0)
		_ = rc.c.Close()
		return "reset right after the request; nothing left behind"
	})
}
