package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"wsfan/ws/wstest"
)

// httpCases are handshake and HTTP-level abuse on /ws (docs/protocol.md,
// "Connecting").
func httpCases(h *hostile) {
	s := h.s
	_ = s
	// --- HTTP-level abuse on /ws. docs/protocol.md: a request that is not
	// a valid upgrade gets nbio's HTTP 400; a request nbio cannot parse at
	// all gets no answer, the connection is closed.
	h.httpAnswer("GET /ws without upgrade headers", []byte("GET /ws HTTP/1.1\r\nHost: wsfan.test\r\n\r\n"), 400)
	h.httpAnswer("upgrade without Sec-WebSocket-Key", []byte(strings.Replace(upgradeRequest(""), "Sec-WebSocket-Key: "+rawKey+"\r\n", "", 1)), 400)
	h.httpAnswer("upgrade with Sec-WebSocket-Version 8", []byte(strings.Replace(upgradeRequest(""), "Version: 13", "Version: 8", 1)), 426)
	h.httpAnswer("POST upgrade", []byte(strings.Replace(upgradeRequest(""), "GET", "POST", 1)), 405)
	h.httpAnswer("TLS ClientHello on the plain port", []byte("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 garbage\r\n\r\n"), 0)
	h.httpAnswer("header line without a colon", []byte(upgradeRequest("NoColonHere\r\n")), 0)
	h.httpAnswer("1 MiB header", []byte(upgradeRequest("X-Pad: "+strings.Repeat("p", 1<<20)+"\r\n")), 0)
	h.httpAnswer("32 KiB header", []byte(upgradeRequest("X-Pad: "+strings.Repeat("p", 32<<10)+"\r\n")), 431)
	h.add("15 KiB header", func(t *testing.T) string {
		rc := rawDial(t, s)
		rc.write([]byte(upgradeRequest("X-Pad: " + strings.Repeat("p", 15<<10) + "\r\n")))
		rc.expectUpgraded()
		return "101"
	})
	// upgradedThenServes: an upgrade request with odd framing headers and
	// body is upgraded, and the connection then serves a command.
	upgradedThenServes := func(name, headers, body string) {
		h.add(name, func(t *testing.T) string {
			rc := rawDial(t, s)
			rc.write([]byte(upgradeRequest(headers) + body))
			rc.expectUpgraded()
			rc.write(wstest.Text(`{"type":"heartbeat"}`))
			rc.expectJSON("pong")
			return "101, body consumed, then served"
		})
	}
	// RFC 9112 section 6.1 lets a server use Transfer-Encoding alone here,
	// but wants the connection closed after the response; nbio keeps it.
	upgradedThenServes("Content-Length and Transfer-Encoding together",
		"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "3\r\nabc\r\n0\r\n\r\n")
	// RFC 9112 section 6.3 wants 400 for differing Content-Length values.
	upgradedThenServes("two different Content-Length headers", "Content-Length: 0\r\nContent-Length: 7\r\n", "")
	// pipelined: bytes sent behind the upgrade request, in the same write,
	// belong to the WebSocket connection (RFC 9110 section 7.8): an HTTP
	// request there is a frame with RSV1 set ('G' = 0x47), a protocol
	// error. It must not be answered as HTTP, and the connection must be
	// closed without leaving anything counted (checked after each case).
	pipelined := func(name, next string) {
		h.add(name, func(t *testing.T) string {
			rc := rawDial(t, s)
			rc.write([]byte(upgradeRequest("") + next))
			rc.expectUpgraded()
			_ = rc.c.SetReadDeadline(time.Now().Add(3 * time.Second))
			rest, err := io.ReadAll(rc.r)
			var ne net.Error
			timedOut := errors.As(err, &ne) && ne.Timeout()
			if bytes.Contains(rest, []byte("HTTP/1.1")) || timedOut {
				t.Errorf("after the 101: %q, connection closed: %v; want no HTTP answer and the connection closed", rest, !timedOut)
			}
			return fmt.Sprintf("101, then %q, closed: %v", rest, !timedOut)
		})
	}
	pipelined("HTTP request pipelined behind the upgrade", "GET /healthz HTTP/1.1\r\nHost: wsfan.test\r\n\r\n")
	pipelined("second upgrade pipelined behind the first", upgradeRequest(""))
}
