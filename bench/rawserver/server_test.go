package rawserver

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"wsfan/bench/internal/rfc6455"
)

// client is a minimal WebSocket client over a real loopback socket.
type client struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func start(t *testing.T) *Server {
	t.Helper()
	s, err := Start("127.0.0.1:0", "127.0.0.1:0", "test-key")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func dial(t *testing.T, s *Server) *client {
	t.Helper()
	nc, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	key := "dGhlIHNhbXBsZSBub25jZQ=="
	fmt.Fprintf(nc, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", key)
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("upgrade answered %d %v", resp.StatusCode, resp.Header)
	}
	return &client{t: t, nc: nc, br: br}
}

// send writes one masked client frame, as the load generator does.
func (c *client) send(op byte, payload []byte) {
	c.t.Helper()
	if _, err := c.nc.Write(rfc6455.AppendClientFrame(nil, op, payload)); err != nil {
		c.t.Fatal(err)
	}
}

// recv reads one server frame, which must be unmasked and final.
func (c *client) recv() (byte, string) {
	c.t.Helper()
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		c.t.Fatalf("reading a frame: %v", err)
	}
	if h[0]&0x80 == 0 || h[1]&0x80 != 0 {
		c.t.Fatalf("frame header %x: not final or masked", h)
	}
	n := int(h[1] & 0x7F)
	if n == 126 {
		var e [2]byte
		_, _ = io.ReadFull(c.br, e[:])
		n = int(binary.BigEndian.Uint16(e[:]))
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(c.br, p); err != nil {
		c.t.Fatal(err)
	}
	return h[0] & 0x0F, string(p)
}

func (c *client) recvText() string {
	c.t.Helper()
	op, p := c.recv()
	if op != opText {
		c.t.Fatalf("opcode %d (%q); want text", op, p)
	}
	return p
}

func post(t *testing.T, s *Server, key, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+s.AdminAddr().String()+"/publish", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metric scrapes one series of /metrics.
func metric(t *testing.T, s *Server, name string) int64 {
	t.Helper()
	resp, err := http.Get("http://" + s.AdminAddr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+" "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	t.Fatalf("no %s in /metrics:\n%s", name, b)
	return 0
}

// waitMetric polls /metrics until name reads want: a connection leaves
// the server after its socket closed, with nothing the client can see.
func waitMetric(t *testing.T, s *Server, name string, want int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for metric(t, s, name) != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s = %d after 5 s; want %d", name, metric(t, s, name), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSubscribePublish(t *testing.T) {
	s := start(t)
	a, b := dial(t, s), dial(t, s)
	a.send(opText, []byte(`{"type":"subscribe","id":"s","data":{"channels":["token.BTC.trade","token.ETH.trade","bad..name"]}}`))
	if got := a.recvText(); got != `{"type":"subscription_ack","id":"s","subscribed":["token.BTC.trade","token.ETH.trade"],"rejected":[{"channel":"bad..name","code":"INVALID_CHANNEL","message":"not a concrete channel name"}],"count":2}` {
		t.Fatalf("ack %s", got)
	}
	b.send(opText, []byte(`{"type":"subscribe","id":"s","data":{"channels":["token.BTC.trade","token.BTC.trade"]}}`))
	if got := b.recvText(); got != `{"type":"subscription_ack","id":"s","subscribed":["token.BTC.trade","token.BTC.trade"],"count":1}` {
		t.Fatalf("ack %s", got)
	}
	if n := metric(t, s, "wsfan_subscriptions"); n != 3 {
		t.Fatalf("wsfan_subscriptions = %d", n)
	}
	if n := metric(t, s, "wsfan_channels"); n != 2 {
		t.Fatalf("wsfan_channels = %d", n)
	}

	// Four writes so far, two upgrades and two acks; the count may trail
	// an ack's arrival.
	waitMetric(t, s, "wsfan_socket_writes_total", 4)
	code, body := post(t, s, "test-key", `[{"channel":"token.BTC.trade","data":{"t":1}},{"channel":"token.ETH.trade","data":"x"},{"channel":"token.BTC.trade","data": [1, 2]}]`)
	if code != 200 || body != `{"accepted":3}` {
		t.Fatalf("publish: %d %s", code, body)
	}
	// The frames arrive in seq order, data byte for byte.
	want := func(c *client, channel string, seq int, data string) {
		t.Helper()
		got := c.recvText()
		prefix := fmt.Sprintf(`{"type":"message","channel":"%s","seq":%d,"ts":`, channel, seq)
		if !strings.HasPrefix(got, prefix) || !strings.HasSuffix(got, `,"data":`+data+`}`) {
			t.Fatalf("message %s; want %s...%s", got, prefix, data)
		}
	}
	want(a, "token.BTC.trade", 1, `{"t":1}`)
	want(a, "token.ETH.trade", 1, `"x"`)
	want(a, "token.BTC.trade", 2, `[1, 2]`)
	want(b, "token.BTC.trade", 1, `{"t":1}`)
	want(b, "token.BTC.trade", 2, `[1, 2]`)
	// One write per delivery: 5 deliveries, 5 writes, all counted before
	// POST /publish answered.
	if w := metric(t, s, "wsfan_socket_writes_total") - 4; w != 5 {
		t.Fatalf("%d socket writes for 5 deliveries", w)
	}
	if d := metric(t, s, "wsfan_deliveries_total"); d != 5 {
		t.Fatalf("wsfan_deliveries_total = %d", d)
	}

	// A single publication object.
	if code, body := post(t, s, "test-key", `{"channel":"token.ETH.trade","data":{"p":"1.5"}}`); code != 200 || body != `{"accepted":1}` {
		t.Fatalf("publish: %d %s", code, body)
	}
	want(a, "token.ETH.trade", 2, `{"p":"1.5"}`)

	// Heartbeat, ping, unsubscribe.
	a.send(opText, []byte(`{"type":"heartbeat","id":"hb-1"}`))
	if got := a.recvText(); !strings.HasPrefix(got, `{"type":"pong","id":"hb-1","ts":`) {
		t.Fatalf("pong %s", got)
	}
	a.send(opPing, []byte("p"))
	if op, p := a.recv(); op != opPong || p != "p" {
		t.Fatalf("ping answered %d %q", op, p)
	}
	a.send(opText, []byte(`{"type":"unsubscribe","id":"u","data":{"channels":["token.ETH.trade"]}}`))
	if got := a.recvText(); got != `{"type":"unsubscription_ack","id":"u","unsubscribed":["token.ETH.trade"],"count":1}` {
		t.Fatalf("unsubscribe ack %s", got)
	}
	a.send(opText, []byte(`nonsense`))
	if got := a.recvText(); !strings.Contains(got, `"code":"BAD_REQUEST"`) {
		t.Fatalf("error frame %s", got)
	}

	// A close is answered, and the gauges return to zero as the
	// connections leave, by close handshake or by a dropped socket.
	a.send(opClose, []byte{0x03, 0xE8})
	if op, p := a.recv(); op != opClose || p != "\x03\xe8" {
		t.Fatalf("close answered %d %q", op, p)
	}
	b.nc.Close()
	waitMetric(t, s, "wsfan_connections", 0)
	waitMetric(t, s, "wsfan_subscriptions", 0)
	waitMetric(t, s, "wsfan_channels", 0)
}

func TestPublishErrors(t *testing.T) {
	s := start(t)
	c := dial(t, s)
	c.send(opText, []byte(`{"type":"subscribe","data":{"channels":["global"]}}`))
	c.recvText()
	f := func(key, body string, status int, code string) {
		t.Helper()
		got, b := post(t, s, key, body)
		if got != status || !strings.Contains(b, `"code":"`+code+`"`) {
			t.Fatalf("POST %s: %d %s; want %d %s", body, got, b, status, code)
		}
	}
	f("wrong", `{"channel":"global","data":1}`, 401, "UNAUTHORIZED")
	f("test-key", `{"channel":"global"}`, 400, "BAD_REQUEST")
	f("test-key", `not json`, 400, "BAD_REQUEST")
	f("test-key", `[{"channel":"global","data":1},{"channel":"token.*.trade","data":1}]`, 400, "INVALID_CHANNEL")
	f("test-key", `{"channel":"global","data":"`+strings.Repeat("x", maxPublishBytes)+`"}`, 413, "TOO_LARGE")
	// Nothing of the rejected batches was published: the next seq is 1.
	if code, _ := post(t, s, "test-key", `{"channel":"global","data":1}`); code != 200 {
		t.Fatalf("publish: %d", code)
	}
	if got := c.recvText(); !strings.HasPrefix(got, `{"type":"message","channel":"global","seq":1,`) {
		t.Fatalf("message %s", got)
	}
}

func TestBadHandshakeAndFrames(t *testing.T) {
	s := start(t)
	nc, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	fmt.Fprintf(nc, "GET /other HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad upgrade answered %v %v", resp, err)
	}

	c := dial(t, s)
	c.send(opText, []byte(strings.Repeat("x", maxClientFrame+1)))
	if op, p := c.recv(); op != opClose || !strings.HasPrefix(p, "\x03\xf1") { // 1009
		t.Fatalf("oversized frame answered %d %q", op, p)
	}
	waitMetric(t, s, "wsfan_connections", 0)
}

func TestValidChannel(t *testing.T) {
	valid := []string{"token.BTC.trade", "global", "user.42.favorites", "a-b_c.D9",
		strings.Repeat("a.", 15) + "a"} // 16 tokens
	invalid := []string{"", "token..trade", ".a", "a.", "token.*.trade", "token.>",
		strings.Repeat("a", 129),       // 129 bytes
		strings.Repeat("a.", 16) + "a"} // 17 tokens
	for _, name := range valid {
		if !validChannel(name) {
			t.Errorf("validChannel(%q) = false; want true", name)
		}
	}
	for _, name := range invalid {
		if validChannel(name) {
			t.Errorf("validChannel(%q) = true; want false", name)
		}
	}
}
