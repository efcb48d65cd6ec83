package server

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"wsfan/config"
	"wsfan/ws/wstest"
)

// deflateOffer is what browsers and Node's ws offer.
const deflateOffer = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"

// rawUpgradeWith upgrades by hand with extra header lines and returns the
// connection and the Sec-WebSocket-Extensions answer.
func rawUpgradeWith(t testing.TB, s *Server, extra string) (*rawConn, string) {
	t.Helper()
	rc := rawDial(t, s)
	rc.write([]byte(upgradeRequest(extra)))
	_ = rc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(rc.r, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade with %q: %v %v", extra, resp, err)
	}
	return rc, resp.Header.Get("Sec-WebSocket-Extensions")
}

// inflateFrame reads a compressed server frame's message as a client does.
func inflateFrame(t testing.TB, f wstest.ServerFrame) []byte {
	t.Helper()
	r := flate.NewReader(io.MultiReader(bytes.NewReader(f.Payload), strings.NewReader("\x00\x00\xff\xff\x01\x00\x00\xff\xff")))
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("inflate: %v", err)
	}
	return out
}

// deflateClient compresses a client message for permessage-deflate.
func deflateClient(p []byte) []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestSpeed)
	_, _ = w.Write(p)
	_ = w.Flush()
	return bytes.TrimSuffix(b.Bytes(), []byte{0, 0, 0xff, 0xff})
}

// bookJSON is a depth update of about 3.3 KB (50 levels a side, 8-decimal
// strings), the kind of payload compression is for.
func bookJSON(seed int) string {
	r := rand.New(rand.NewPCG(uint64(seed), 2))
	var b strings.Builder
	side := func(from, step float64) {
		for i := range 50 {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `["%.8f","%.8f"]`, from+float64(i)*step, math.Round(r.Float64()*3e4)/1e4)
		}
	}
	fmt.Fprintf(&b, `{"e":"depthUpdate","E":%d,"s":"BTCUSDT","b":[`, 1764633600000+seed)
	side(43250, -0.5)
	b.WriteString(`],"a":[`)
	side(43251, 0.5)
	b.WriteString(`]}`)
	return b.String()
}

// TestDeflateClients: a raw client offering permessage-deflate gets it with
// both no_context_takeover parameters; gorilla with EnableCompression and
// a plain gorilla client receive one publication intact, the deflate ones
// compressed (RSV1, 3x smaller) from a single compression; a short message
// goes plain to everyone; a compressed command is inflated and answered.
func TestDeflateClients(t *testing.T) {
	s := startServer(t, nil)
	const channel = "token.BTC.book"
	rc, ext := rawUpgradeWith(t, s, deflateOffer)
	if ext != "permessage-deflate; server_no_context_takeover; client_no_context_takeover" {
		t.Fatalf("Sec-WebSocket-Extensions %q", ext)
	}
	// The subscribe goes compressed: the server inflates it.
	cmd := []byte(`{"type":"subscribe","id":"z","data":{"channels":["` + channel + `"]}}`)
	rc.write(wstest.Frame(0xC1, deflateClient(cmd), false))
	if f := rc.next(); f.RSV != 0 || !bytes.Contains(f.Payload, []byte(`"subscription_ack"`)) {
		t.Fatalf("ack: RSV %#x %q", f.RSV, f.Payload)
	}

	d := websocket.Dialer{EnableCompression: true, HandshakeTimeout: 5 * time.Second}
	gz, resp, err := d.Dial("ws://"+s.PublicAddr()+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gz.Close() })
	if !strings.HasPrefix(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate") {
		t.Fatalf("gorilla got %q", resp.Header.Get("Sec-WebSocket-Extensions"))
	}
	gzc := &wsClient{t: t, conn: gz}
	gz.EnableWriteCompression(true) // its commands go compressed too
	gzc.subscribe("g", channel)
	plain := dial(t, s)
	plain.subscribe("p", channel)

	book := bookJSON(1)
	mustPublish(t, s, `{"channel":"`+channel+`","data":`+book+`}`)
	zf := rc.next()
	if zf.RSV != 0x40 {
		t.Fatalf("the deflate client got RSV %#x; want RSV1", zf.RSV)
	}
	msg := inflateFrame(t, zf)
	var m struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(msg, &m); err != nil || string(m.Data) != book {
		t.Fatalf("inflated %.80q: %v", msg, err)
	}
	if len(zf.Payload)*3 > len(msg) {
		t.Fatalf("%d bytes on the wire for a %d-byte message: less than 3x", len(zf.Payload), len(msg))
	}
	for _, c := range []*wsClient{gzc, plain} {
		if got := c.expect("message"); string(got.Data) != book {
			t.Fatalf("got %.80q", got.raw)
		}
	}
	if n := counter(s, "wsfan_compressions_total"); n != 1 {
		t.Fatalf("%d compressions for one publication", n)
	}
	if z, p := counter(s, `wsfan_deliveries_by_encoding_total{encoding="deflate"}`), counter(s, `wsfan_deliveries_by_encoding_total{encoding="plain"}`); z != 2 || p != 1 {
		t.Fatalf("deliveries: deflate %d, plain %d; want 2 and 1", z, p)
	}

	mustPublish(t, s, `{"channel":"`+channel+`","data":{"p":"1.5"}}`) // below compression_min_bytes
	if f := rc.next(); f.RSV != 0 || !bytes.Contains(f.Payload, []byte(`{"p":"1.5"}`)) {
		t.Fatalf("a short message: RSV %#x %q", f.RSV, f.Payload)
	}
	if n := counter(s, "wsfan_compressions_total"); n != 1 {
		t.Fatalf("%d compressions after a short message", n)
	}
}

// TestDeflateReplay: a deflate client recovering from history gets the
// publications deflated when they were compressed for a deflate
// subscriber, and intact either way.
func TestDeflateReplay(t *testing.T) {
	s := startServer(t, func(c *config.Config) { c.History.Channels = []string{"token.>"} })
	const channel = "token.ETH.book"
	rc, _ := rawUpgradeWith(t, s, deflateOffer)
	rc.write(wstest.Text(`{"type":"subscribe","id":"a","data":{"channels":["` + channel + `"]}}`))
	var ack frame
	_ = json.Unmarshal(rc.next().Payload, &ack)
	books := []string{bookJSON(10), bookJSON(11), bookJSON(12)}
	for _, b := range books {
		mustPublish(t, s, `{"channel":"`+channel+`","data":`+b+`}`)
		rc.next()
	}
	// A second deflate client recovers everything after the first ack.
	rc2, _ := rawUpgradeWith(t, s, deflateOffer)
	pos := ack.Positions[0]
	rc2.write(wstest.Text(fmt.Sprintf(`{"type":"subscribe","id":"b","data":{"channels":[%q],"since":{%q:{"epoch":%q,"seq":%d}}}}`,
		channel, channel, pos.Epoch, pos.Seq)))
	if f := rc2.next(); !bytes.Contains(f.Payload, []byte(`"recovered":true`)) {
		t.Fatalf("ack %q", f.Payload)
	}
	for i, b := range books {
		f := rc2.next()
		if f.RSV != 0x40 || !bytes.Contains(inflateFrame(t, f), []byte(b)) {
			t.Fatalf("replayed message %d: RSV %#x", i, f.RSV)
		}
	}
}

// TestCompressionOff: with compression = false an offer gets no extension,
// and RSV1 is then a protocol error.
func TestCompressionOff(t *testing.T) {
	s := startServer(t, func(c *config.Config) { off := false; c.Compression = &off })
	rc, ext := rawUpgradeWith(t, s, deflateOffer)
	if ext != "" {
		t.Fatalf("compression off, yet Sec-WebSocket-Extensions %q", ext)
	}
	rc.write(wstest.Frame(0xC1, deflateClient([]byte(`{"type":"heartbeat"}`)), false))
	if code, reason, _ := rc.closeResult(5 * time.Second); code != 1002 {
		t.Fatalf("RSV1 without the extension: %s", describeClose(code, reason))
	}
}
