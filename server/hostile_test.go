package server

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
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
	return newRawConn(t, c)
}

// newRawConn wraps a connection to the public listener, closed when the
// test ends.
func newRawConn(t testing.TB, c net.Conn) *rawConn {
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

// goodChannel is the channel of a hostile suite's well-behaved client.
const goodChannel = "hostile.good"

// minHostileCases is how many distinct cases TestHostileInputs must hold.
const minHostileCases = 40

func TestHostileInputs(t *testing.T) {
	s := startServer(t, nil)
	h := &hostile{s: s}
	frameCases(h)
	commandCases(h)
	httpCases(h)
	publishCases(h)
	peerCases(h)
	deflateCases(h)
	if len(h.cases) < minHostileCases {
		t.Fatalf("%d cases; want at least %d", len(h.cases), minHostileCases)
	}
	good := dial(t, s)
	good.subscribe("good", goodChannel)
	runHostile(t, s, good, goodChannel, h.cases, func(t *testing.T) {
		t.Run("slowloris", func(t *testing.T) {
			t.Parallel()
			testSlowloris(t, s)
		})
	})
}

// runHostile runs cases against s one after the other, with extra (run in
// parallel with them), while good, subscribed to channel, must receive
// a marker after every case with the next seq: the server lives and drops
// nothing. Afterwards every hostile connection must be gone, the index
// must hold only good's subscription, and the live heap must be back within
// 10% of what it was before the first case.
func runHostile(t *testing.T, s *Server, good *wsClient, channel string, cases []hostileCase, extra func(t *testing.T)) {
	t.Helper()
	var seq uint64
	stillServed := func(t *testing.T, after string) {
		t.Helper()
		seq++
		data, _ := json.Marshal(after)
		mustPublish(t, s, `{"channel":"`+channel+`","data":`+string(data)+`}`)
		f, err := good.tryRead(5 * time.Second)
		if err != nil || f.Type != "message" || f.Seq != seq || string(f.Data) != string(data) {
			t.Fatalf("good client after %q: %s %v; want message seq %d data %s", after, f.raw, err, seq, data)
		}
	}
	stillServed(t, "start")
	before := liveHeap()
	baseGoroutines := runtime.NumGoroutine()

	// Connections counted and registered after their socket closed; only
	// the good client should be.
	leaked, stale := int64(0), 0
	t.Run("group", func(t *testing.T) {
		if extra != nil {
			extra(t)
		}
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
	if n, ch, m := s.hub.Index().Subscriptions(), s.hub.Index().Channels(), members(s, channel); n != 1 || ch != 1 || m != 1 {
		t.Errorf("index holds %d subscriptions on %d channels (%d on %s); want only the good client's", n, ch, m, channel)
	}
	waitFor(t, "goroutines back near the baseline", func() bool { return runtime.NumGoroutine() <= baseGoroutines+10 })
	after := liveHeap()
	if after > before+before/10 {
		t.Errorf("live heap %d KiB after %d hostile cases; %d KiB before: more than 10%% above", after>>10, len(cases), before>>10)
	}
	t.Logf("%d cases; live heap %d KiB -> %d KiB; goroutines %d -> %d",
		len(cases), before>>10, after>>10, baseGoroutines, runtime.NumGoroutine())
	stillServed(t, "end")
}

// liveHeap returns the bytes of live heap objects once two collections have
// also emptied the sync.Pools (their victim caches take a second one).
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
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

// hostile builds a table of hostile cases against s.
type hostile struct {
	s     *Server
	cases []hostileCase
}

func (h *hostile) add(name string, run func(t *testing.T) string) {
	h.cases = append(h.cases, hostileCase{name, run})
}

// alive checks that a connection that got an error frame still answers.
func alive(t *testing.T, c *wsClient) {
	t.Helper()
	c.send(`{"type":"heartbeat"}`)
	c.expect("pong")
}

// errorFrame: one text frame answered with an error frame of code (echoing
// wantID); the connection stays open.
func (h *hostile) errorFrame(name, in, wantCode, wantID string) {
	h.add(name, func(t *testing.T) string {
		c := dial(t, h.s)
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
func (h *hostile) answered(name, in, typ string) {
	h.add(name, func(t *testing.T) string {
		c := dial(t, h.s)
		c.send(in)
		f := c.expect(typ)
		alive(t, c)
		return fmt.Sprintf("%s; connection open", f.raw)
	})
}

// closed: raw frames written after the upgrade, in one write, make the
// server close with code and reason (noClose: no close frame), and send
// nothing before.
func (h *hostile) closed(name string, wantCode int, wantReason string, frames ...[]byte) {
	h.add(name, func(t *testing.T) string {
		rc := rawUpgrade(t, h.s)
		rc.write(concat(frames...))
		code, reason, before := rc.closeResult(6 * time.Second)
		if code != wantCode || reason != wantReason || len(before) > 0 {
			t.Fatalf("got %s after %d frames; want %s", describeClose(code, reason), len(before), describeClose(wantCode, wantReason))
		}
		return describeClose(code, reason)
	})
}

// httpAnswer: a raw request on a fresh connection to the public listener
// is answered with status (0: the connection is closed with no answer).
func (h *hostile) httpAnswer(name string, req []byte, wantStatus int) {
	h.add(name, func(t *testing.T) string {
		rc := rawDial(t, h.s)
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
