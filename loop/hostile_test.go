package loop

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"wsfan/ws/wstest"
)

// This file throws hostile input at a live server over real sockets: raw
// TCP for what no WebSocket library would send, gorilla (helpers_test.go)
// for JSON-level abuse. Every case checks the answer the server gives and
// that a well-behaved client connected throughout misses nothing.

// rawKey is the Sec-WebSocket-Key of every raw handshake and rawAccept the
// Sec-WebSocket-Accept it must be answered with (RFC 6455, section 1.3).
const (
	rawKey    = "dGhlIHNhbXBsZSBub25jZQ=="
	rawAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
)

// upgradeRequest is a valid upgrade request for GET /ws with extra header
// lines ("Name: value\r\n" each) added before the blank line.
func upgradeRequest(extra string) string {
	return "GET /ws HTTP/1.1\r\nHost: wsfan.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + rawKey + "\r\nSec-WebSocket-Version: 13\r\n" + extra + "\r\n"
}

// concat joins frames into one buffer, to be sent in one write.
func concat(frames ...[]byte) []byte {
	var b []byte
	for _, f := range frames {
		b = append(b, f...)
	}
	return b
}

// rawConn is a client on a bare TCP connection to the public listener.
type rawConn struct {
	t testing.TB
	c net.Conn
	r *bufio.Reader
}

// rawDial connects to the public listener and sends nothing.
func rawDial(t testing.TB, s *Server) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", s.PublicAddr(), 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &rawConn{t: t, c: c, r: bufio.NewReader(c)}
}

// rawUpgrade connects and performs the WebSocket upgrade by hand.
func rawUpgrade(t testing.TB, s *Server) *rawConn {
	t.Helper()
	rc := rawDial(t, s)
	rc.write([]byte(upgradeRequest("")))
	rc.expectUpgraded()
	return rc
}

func (rc *rawConn) write(b []byte) {
	rc.t.Helper()
	if err := rc.tryWrite(b); err != nil {
		rc.t.Fatalf("write: %v", err)
	}
}

func (rc *rawConn) tryWrite(b []byte) error {
	_ = rc.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := rc.c.Write(b)
	return err
}

// response reads the server's HTTP response: its status and body, or
// status 0 and the error when the server closed without answering.
func (rc *rawConn) response() (int, string, error) {
	_ = rc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(rc.r, nil)
	if err != nil {
		return 0, "", err
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		if got := resp.Header.Get("Sec-WebSocket-Accept"); got != rawAccept {
			return resp.StatusCode, "", fmt.Errorf("Sec-WebSocket-Accept %q; want %q", got, rawAccept)
		}
		return resp.StatusCode, "", nil
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, strings.TrimSpace(string(b)), err
}

func (rc *rawConn) expectUpgraded() {
	rc.t.Helper()
	if status, body, err := rc.response(); status != http.StatusSwitchingProtocols || err != nil {
		rc.t.Fatalf("upgrade answered %d %q (%v); want 101", status, body, err)
	}
}

// readFrame reads one server frame.
func (rc *rawConn) readFrame(timeout time.Duration) (wstest.ServerFrame, error) {
	_ = rc.c.SetReadDeadline(time.Now().Add(timeout))
	return wstest.ReadFrame(rc.r, 16<<20)
}

// next returns the next server frame other than a ping.
func (rc *rawConn) next() wstest.ServerFrame {
	rc.t.Helper()
	for {
		f, err := rc.readFrame(5 * time.Second)
		if err != nil {
			rc.t.Fatalf("read: %v", err)
		}
		if f.Op != 0x9 {
			return f
		}
	}
}

// expectJSON reads the next frame, which must be a text frame holding a
// JSON object of type typ.
func (rc *rawConn) expectJSON(typ string) frame {
	rc.t.Helper()
	f := rc.next()
	var fr frame
	if f.Op != 0x1 || json.Unmarshal(f.Payload, &fr) != nil || fr.Type != typ {
		rc.t.Fatalf("got frame opcode %d %q; want a text frame of type %q", f.Op, f.Payload, typ)
	}
	fr.raw = f.Payload
	return fr
}

// noClose is the code closeResult reports when the server closed the TCP
// connection without a close frame (RFC 6455's 1006).
const noClose = 1006

// closeResult reads until the server closes and returns the close frame's
// code and reason (1005 for a close frame without a code), or noClose when
// the TCP connection ended without one. It also returns the frames that came
// before, pings excepted. It does not answer the close.
func (rc *rawConn) closeResult(timeout time.Duration) (code int, reason string, before []wstest.ServerFrame) {
	rc.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		f, err := rc.readFrame(time.Until(deadline))
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				rc.t.Fatalf("the server did not close within %v", timeout)
			}
			return noClose, "", before
		}
		switch {
		case f.Op == 0x8:
			code, reason := wstest.CloseOf(f.Payload)
			return code, reason, before
		case f.Op != 0x9:
			before = append(before, f)
		}
	}
}

// describeClose renders a closeResult for the log.
func describeClose(code int, reason string) string {
	if code == noClose {
		return "TCP closed without a close frame (1006)"
	}
	return fmt.Sprintf("close %d %q", code, reason)
}

// hostileCase is one row of TestHostileInputs: run performs the abuse on
// its own connection, checks the server's answer and returns it in words.
type hostileCase struct {
	name string
	run  func(t *testing.T) string
}

// goodChannel is the channel of TestHostileInputs' well-behaved client.
const goodChannel = "hostile.good"

func TestHostileInputs(t *testing.T) {
	s := startServer(t, nil)
	good := dial(t, s)
	good.subscribe("good", goodChannel)
	var seq uint64
	// stillServed publishes a marker and checks that the good client gets
	// it with the next seq: the server lives and dropped nothing.
	stillServed := func(t *testing.T, after string) {
		t.Helper()
		seq++
		data, _ := json.Marshal(after)
		mustPublish(t, s, `{"channel":"`+goodChannel+`","data":`+string(data)+`}`)
		f, err := good.tryRead(5 * time.Second)
		if err != nil || f.Type != "message" || f.Seq != seq || string(f.Data) != string(data) {
			t.Fatalf("good client after %q: %s %v; want message seq %d data %s", after, f.raw, err, seq, data)
		}
	}
	stillServed(t, "start")

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	baseGoroutines := runtime.NumGoroutine()

	cases := hostileCases(s)
	if len(cases) < 30 {
		t.Fatalf("%d cases; want at least 30", len(cases))
	}
	// Connections counted and registered after their socket closed; only
	// the good client should be.
	leaked, stale := int64(0), 0
	t.Run("group", func(t *testing.T) {
		t.Run("slowloris", func(t *testing.T) {
			t.Parallel()
			testSlowloris(t, s)
		})
		t.Run("table", func(t *testing.T) {
			t.Parallel()
			for _, tc := range cases {
				// A failed case does not stop the table: every answer is
				// worth seeing. The hostile connections close when the
				// case ends.
				t.Run(tc.name, func(t *testing.T) {
					t.Logf("answer: %s", tc.run(t))
				})
				stillServed(t, tc.name)
				settled := func() bool { return s.conns.Load() == 1+leaked && s.reg.len() == 1+stale }
				for deadline := time.Now().Add(3 * time.Second); !settled() && time.Now().Before(deadline); {
					time.Sleep(2 * time.Millisecond)
				}
				if !settled() {
					t.Errorf("after %q: %d connections counted, %d registered; want only the good client (%d, %d left over before)",
						tc.name, s.conns.Load(), s.reg.len(), leaked, stale)
					leaked, stale = s.conns.Load()-1, s.reg.len()-1
				}
			}
		})
	})

	// Every hostile connection is gone and left nothing behind.
	if leaked != 0 || stale != 0 {
		t.Errorf("%d connections still counted in s.conns and %d still registered after their sockets closed (see above)", leaked, stale)
	}
	if n, ch, m := s.idx.Subscriptions(), s.idx.Channels(), s.idx.Lookup(goodChannel).Len(); n != 1 || ch != 1 || m != 1 {
		t.Errorf("index holds %d subscriptions on %d channels (%d on %s); want only the good client's", n, ch, m, goodChannel)
	}
	waitFor(t, "goroutines back near the baseline", func() bool { return runtime.NumGoroutine() <= baseGoroutines+10 })
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if growth := int64(after.HeapInuse) - int64(before.HeapInuse); growth > 64<<20 {
		t.Errorf("HeapInuse grew by %d MiB over the hostile inputs", growth>>20)
	}
	t.Logf("HeapInuse %d KiB -> %d KiB; goroutines %d -> %d",
		before.HeapInuse>>10, after.HeapInuse>>10, baseGoroutines, runtime.NumGoroutine())
	stillServed(t, "end")
}

// testSlowloris checks that connections which never finish their upgrade
// request are closed by the handshake timeout, whether silent or trickling
// a byte at a time.
func testSlowloris(t *testing.T, s *Server) {
	if testing.Short() {
		t.Skipf("takes the %v handshake timeout", handshakeTimeout)
	}
	silent := rawDial(t, s)
	trickle := rawDial(t, s)
	start := time.Now()
	silent.write([]byte("GET /ws HTTP/1.1\r\nHost: wsfan.test\r\nUpgrade: web"))
	trickle.write([]byte("GET /ws HTTP/1.1\r\nHost: wsfan.test\r\nX-Slow: "))
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // one more header byte every 200 ms, until the server hangs up
		defer close(done)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if trickle.tryWrite([]byte("a")) != nil {
					return
				}
			}
		}
	}()
	defer func() { close(stop); <-done }()

	limit := handshakeTimeout + 3*time.Second
	for _, c := range []struct {
		name string
		rc   *rawConn
	}{{"silent", silent}, {"trickling", trickle}} {
		_ = c.rc.c.SetReadDeadline(start.Add(limit))
		b, err := io.ReadAll(c.rc.c)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("%s partial request still open after %v", c.name, time.Since(start))
		}
		if len(b) > 0 {
			t.Fatalf("%s partial request answered %q; want the connection closed", c.name, b)
		}
		took := time.Since(start)
		if took < handshakeTimeout-time.Second {
			t.Fatalf("%s partial request closed after %v; the handshake timeout is %v", c.name, took, handshakeTimeout)
		}
		t.Logf("answer: %s partial request: TCP closed after %v, nothing sent", c.name, took.Round(100*time.Millisecond))
	}
}

// hostileCases returns TestHostileInputs' table.
func hostileCases(s *Server) []hostileCase {
	var cases []hostileCase
	add := func(name string, run func(t *testing.T) string) {
		cases = append(cases, hostileCase{name, run})
	}

	// alive checks that a connection that got an error frame still answers.
	alive := func(t *testing.T, c *wsClient) {
		t.Helper()
		c.send(`{"type":"heartbeat"}`)
		c.expect("pong")
	}
	// errorFrame: one text frame answered with an error frame of code
	// (echoing wantID); the connection stays open.
	errorFrame := func(name, in, wantCode, wantID string) {
		add(name, func(t *testing.T) string {
			c := dial(t, s)
			c.send(in)
			e := c.expect("error")
			if e.Code != wantCode || e.ID != wantID || e.Message == "" {
				t.Fatalf("%.80q -> %s; want error %s with id %q", in, e.raw, wantCode, wantID)
			}
			alive(t, c)
			return fmt.Sprintf("error %s id %q %q; connection open", e.Code, e.ID, e.Message)
		})
	}
	// answered: one text frame answered with a frame of type typ.
	answered := func(name, in, typ string) {
		add(name, func(t *testing.T) string {
			c := dial(t, s)
			c.send(in)
			f := c.expect(typ)
			alive(t, c)
			return fmt.Sprintf("%s; connection open", f.raw)
		})
	}
	// closed: raw frames written after the upgrade, in one write, make the
	// server close with code and reason (noClose: no close frame), and send
	// nothing before.
	closed := func(name string, wantCode int, wantReason string, frames ...[]byte) {
		add(name, func(t *testing.T) string {
			rc := rawUpgrade(t, s)
			rc.write(concat(frames...))
			code, reason, before := rc.closeResult(6 * time.Second)
			if code != wantCode || reason != wantReason || len(before) > 0 {
				t.Fatalf("got %s after %d frames; want %s", describeClose(code, reason), len(before), describeClose(wantCode, wantReason))
			}
			return describeClose(code, reason)
		})
	}
	// httpAnswer: a raw request on a fresh connection is answered with
	// status (0: the connection is closed with no answer).
	httpAnswer := func(name string, req []byte, wantStatus int) {
		add(name, func(t *testing.T) string {
			rc := rawDial(t, s)
			_ = rc.tryWrite(req) // the server may hang up before it has read it all
			status, body, err := rc.response()
			if status != wantStatus {
				t.Fatalf("answered %d %q (%v); want %d", status, body, err, wantStatus)
			}
			if status == 0 {
				return "closed without an HTTP answer (" + err.Error() + ")"
			}
			return fmt.Sprintf("HTTP %d %q", status, body)
		})
	}

	// --- Malformed JSON (docs/protocol.md: BAD_REQUEST, no id when the
	// frame is not JSON; an error frame never closes the connection).
	errorFrame("malformed JSON", `{"type":"subscribe",`, "BAD_REQUEST", "")
	errorFrame("truncated JSON", `{"type":"heartbeat","id":"t1"`, "BAD_REQUEST", "")
	errorFrame("truncated string", `{"type":"heartbeat","id":"t`, "BAD_REQUEST", "")
	errorFrame("empty text frame", ``, "BAD_REQUEST", "")
	errorFrame("two objects in one frame", `{"type":"heartbeat"}{"type":"heartbeat"}`, "BAD_REQUEST", "")
	errorFrame("JSON array", `[{"type":"heartbeat"}]`, "BAD_REQUEST", "")
	errorFrame("NUL bytes", "{\"type\":\"heartbeat\"\x00}", "BAD_REQUEST", "")
	errorFrame("unknown type", `{"type":"dance","id":"u1"}`, "BAD_REQUEST", "u1")
	errorFrame("type not a string", `{"type":["subscribe"],"id":"u2"}`, "BAD_REQUEST", "u2")
	errorFrame("type null", `{"type":null,"id":"u3"}`, "BAD_REQUEST", "u3")
	errorFrame("id over 64 bytes", `{"type":"heartbeat","id":"`+strings.Repeat("i", 65)+`"}`, "BAD_REQUEST", "")
	errorFrame("id not a string", `{"type":"heartbeat","id":{"x":1}}`, "BAD_REQUEST", "")
	errorFrame("channels not an array", `{"type":"subscribe","id":"c1","data":{"channels":{"a":1}}}`, "BAD_REQUEST", "c1")
	errorFrame("channels empty", `{"type":"subscribe","id":"c2","data":{"channels":[]}}`, "BAD_REQUEST", "c2")
	errorFrame("channel not a string", `{"type":"subscribe","id":"c3","data":{"channels":["a.b",null]}}`, "BAD_REQUEST", "c3")
	errorFrame("since not an object", `{"type":"subscribe","id":"c4","data":{"channels":["a.b"],"since":[1]}}`, "BAD_REQUEST", "c4")
	errorFrame("since with a negative seq", `{"type":"subscribe","id":"c5","data":{"channels":["a.b"],"since":{"a.b":{"epoch":"e","seq":-1}}}}`, "BAD_REQUEST", "c5")

	// --- Deep nesting: within max_message_bytes it is parsed in linear
	// time (an ignored field is ignored however deep); over it, 1009.
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	answered("deep nesting in an ignored field", `{"type":"heartbeat","x":`+deep(2000)+`}`, "pong")
	errorFrame("deep nesting unbalanced", strings.Repeat("[", 4000), "BAD_REQUEST", "")
	errorFrame("deep nesting as a channel", `{"type":"subscribe","id":"n1","data":{"channels":[`+deep(1900)+`]}}`, "BAD_REQUEST", "n1")
	answered("number with a huge exponent", `{"type":"heartbeat","x":1e999999999}`, "pong")
	add("deep nesting over max_message_bytes", func(t *testing.T) string {
		c := dial(t, s)
		c.send(strings.Repeat("[", 10000))
		code, reason := c.closeCode(5 * time.Second)
		if code != 1009 || reason != "message too big" {
			t.Fatalf("close %d %q; want 1009 \"message too big\"", code, reason)
		}
		return describeClose(code, reason)
	})

	// --- Channel names.
	add("many channels past max_subscriptions_per_conn", func(t *testing.T) string {
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
		if n := s.idx.Subscriptions(); n != limit+1 {
			t.Fatalf("index holds %d subscriptions; want %d", n, limit+1)
		}
		alive(t, c)
		return fmt.Sprintf("subscription_ack count %d, %d rejected TOO_MANY_SUBSCRIPTIONS (%d-byte ack)", *ack.Count, len(ack.Rejected), len(ack.raw))
	})
	add("more channels than max_channels_per_command", func(t *testing.T) string {
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
	add("one channel repeated 100 times", func(t *testing.T) string {
		c := dial(t, s)
		ack := c.subscribe("r", slices.Repeat([]string{"dup.ch"}, 100)...)
		if *ack.Count != 1 || len(ack.Subscribed) != 1 || len(ack.Rejected) != 0 {
			t.Fatalf("ack %s; want one subscription", ack.raw)
		}
		return string(ack.raw)
	})
	add("channel names of 128 and 129 bytes", func(t *testing.T) string {
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
	add("channel names with bad characters", func(t *testing.T) string {
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
	add("lone surrogate escape in a channel", func(t *testing.T) string {
		c := dial(t, s)
		c.send(`{"type":"subscribe","id":"s","data":{"channels":["a.\ud800"]}}`)
		ack := c.expect("subscription_ack")
		if *ack.Count != 0 || len(ack.Rejected) != 1 || ack.Rejected[0].Code != "INVALID_CHANNEL" {
			t.Fatalf("ack %s; want INVALID_CHANNEL", ack.raw)
		}
		return string(ack.raw)
	})

	// --- Frame types and payloads.
	add("binary frame", func(t *testing.T) string {
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
	add("invalid UTF-8 in a text frame", func(t *testing.T) string {
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
	closed("64-bit length with the top bit set", 1002, "invalid frame length", hdr64(1<<63|5))
	closed("64-bit length of 1 TiB", 1009, "message too big", hdr64(1<<40))
	closed("16-bit length over max_message_bytes", 1009, "message too big", []byte{wstest.FinText, 0x80 | 126, 0xFF, 0xFF})
	closed("fragments summing over max_message_bytes", 1009, "message too big",
		wstest.Frame(0x01, []byte(strings.Repeat(" ", 2000)), false),
		wstest.Frame(0x00, []byte(strings.Repeat(" ", 2000)), false),
		wstest.Frame(0x80, []byte(strings.Repeat(" ", 2000)), false))
	// RFC 6455 section 5.5: a control frame over 125 bytes, or
	// fragmented, is a protocol error.
	closed("ping over 125 bytes", 1002, "control frame over 125 bytes", wstest.Frame(wstest.FinPing, make([]byte, 126), false))
	closed("close over 125 bytes", 1002, "control frame over 125 bytes", wstest.Frame(wstest.FinClose, wstest.ClosePayload(1000, strings.Repeat("r", 124)), false))
	closed("fragmented ping", 1002, "fragmented control frame", wstest.Frame(0x09, []byte("p"), false))
	closed("RSV1 set", 1002, "RSV1 set without permessage-deflate on a first data frame", wstest.Frame(0xC1, []byte(`{"type":"heartbeat"}`), false))
	closed("RSV2 set", 1002, "reserved bits set", wstest.Frame(0xA1, []byte(`{"type":"heartbeat"}`), false))
	closed("RSV3 set", 1002, "reserved bits set", wstest.Frame(0x91, []byte(`{"type":"heartbeat"}`), false))
	closed("reserved data opcode 3", 1002, "reserved opcode", wstest.Frame(0x83, []byte("x"), false))
	closed("reserved control opcode 0xB", 1002, "reserved opcode", wstest.Frame(0x8B, []byte("x"), false))
	closed("continuation without a start", 1002, "continuation frame without a message to continue", wstest.Frame(0x80, []byte(`{"type":"heartbeat"}`), false))
	closed("new text frame inside a fragmented message", 1002, "new message inside a fragmented message",
		wstest.Frame(0x01, []byte(`{"type":`), false), wstest.Text(`{"type":"heartbeat"}`))
	closed("close with a reserved code", 1002, "invalid close code", wstest.Frame(wstest.FinClose, wstest.ClosePayload(1005, ""), false))
	closed("close with code 1015", 1002, "invalid close code", wstest.Frame(wstest.FinClose, wstest.ClosePayload(1015, ""), false))
	closed("close with a one-byte payload", 1002, "close frame with a 1-byte payload", wstest.Frame(wstest.FinClose, []byte{3}, false))
	closed("close with an invalid UTF-8 reason", 1007, "close reason not UTF-8", wstest.Frame(wstest.FinClose, wstest.ClosePayload(1001, "\xc3\x28"), false))
	// docs/protocol.md: a close the client starts is answered with the same
	// code; one without a code, with none.
	closed("client close without a code", 1005, "", wstest.Frame(wstest.FinClose, nil, false))
	closed("client close 4000", 4000, "bye", wstest.Frame(wstest.FinClose, wstest.ClosePayload(4000, "bye"), false))
	add("unmasked client frame", func(t *testing.T) string {
		rc := rawUpgrade(t, s)
		rc.write(wstest.Frame(wstest.FinText, []byte(`{"type":"heartbeat"}`), true))
		// RFC 6455 section 5.1: the server MUST close the connection.
		code, reason, before := rc.closeResult(6 * time.Second)
		if code != 1002 || reason != "frame not masked" || len(before) > 0 {
			t.Fatalf("got %s after %d frames; want close 1002 \"frame not masked\"", describeClose(code, reason), len(before))
		}
		return describeClose(code, reason)
	})
	add("fragmented text with a ping between fragments", func(t *testing.T) string {
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
	add("ping with a payload and an unsolicited pong", func(t *testing.T) string {
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
	add("ping flood", func(t *testing.T) string {
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
	add("command flood", func(t *testing.T) string {
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
	add("frames in 1-byte TCP writes", func(t *testing.T) string {
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
	add("two frames in one write", func(t *testing.T) string {
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
	add("frame sent before the 101", func(t *testing.T) string {
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

	// --- HTTP-level abuse on /ws. docs/protocol.md: a request that is not
	// a valid upgrade gets nbio's HTTP 400; a request nbio cannot parse at
	// all gets no answer, the connection is closed.
	httpAnswer("GET /ws without upgrade headers", []byte("GET /ws HTTP/1.1\r\nHost: wsfan.test\r\n\r\n"), 400)
	httpAnswer("upgrade without Sec-WebSocket-Key", []byte(strings.Replace(upgradeRequest(""), "Sec-WebSocket-Key: "+rawKey+"\r\n", "", 1)), 400)
	httpAnswer("upgrade with Sec-WebSocket-Version 8", []byte(strings.Replace(upgradeRequest(""), "Version: 13", "Version: 8", 1)), 426)
	httpAnswer("POST upgrade", []byte(strings.Replace(upgradeRequest(""), "GET", "POST", 1)), 405)
	httpAnswer("TLS ClientHello on the plain port", []byte("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 garbage\r\n\r\n"), 0)
	httpAnswer("header line without a colon", []byte(upgradeRequest("NoColonHere\r\n")), 0)
	httpAnswer("1 MiB header", []byte(upgradeRequest("X-Pad: "+strings.Repeat("p", 1<<20)+"\r\n")), 0)
	httpAnswer("32 KiB header", []byte(upgradeRequest("X-Pad: "+strings.Repeat("p", 32<<10)+"\r\n")), 431)
	add("15 KiB header", func(t *testing.T) string {
		rc := rawDial(t, s)
		rc.write([]byte(upgradeRequest("X-Pad: " + strings.Repeat("p", 15<<10) + "\r\n")))
		rc.expectUpgraded()
		return "101"
	})
	// upgradedThenServes: an upgrade request with odd framing headers and
	// body is upgraded, and the connection then serves a command.
	upgradedThenServes := func(name, headers, body string) {
		add(name, func(t *testing.T) string {
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
		add(name, func(t *testing.T) string {
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
	return cases
}
