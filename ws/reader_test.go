package ws

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"wsfan/ws/wstest"
)

// recorder is a Handler that writes down what it is handed, one line each.
type recorder struct{ got []string }

func (h *recorder) Message(op byte, p []byte) {
	// What every Reader of feed's must hold to, fuzzed or not.
	if len(p) > feedLimit || op == OpText && !utf8.Valid(p) {
		panic(fmt.Sprintf("the reader handed over %d bytes (limit %d), op %d, valid UTF-8 %v", len(p), feedLimit, op, utf8.Valid(p)))
	}
	h.got = append(h.got, fmt.Sprintf("msg %d %q", op, p))
}

// feedLimit is the message limit of feed's readers.
const feedLimit = 4096

func (h *recorder) Ping(p []byte) { h.got = append(h.got, fmt.Sprintf("ping %q", p)) }
func (h *recorder) Pong(p []byte) { h.got = append(h.got, fmt.Sprintf("pong %q", p)) }
func (h *recorder) Close(code int, reason string) {
	h.got = append(h.got, fmt.Sprintf("close %d %q", code, reason))
}
func (h *recorder) Fail(code int, reason string) {
	h.got = append(h.got, fmt.Sprintf("error %d %s", code, reason))
}

// feed runs a fresh Reader (limit 4096, no deflate) over in, split into
// pieces of chunk bytes (0: all at once), and returns what the handler got
// and the first error, as "error CODE reason".
func feed(in []byte, chunk int, inflater Inflater) []string {
	var r Reader
	r.Init(feedLimit, inflater)
	h := &recorder{}
	in = bytes.Clone(in)
	if chunk <= 0 {
		chunk = len(in)
	}
	for len(in) > 0 {
		n := min(chunk, len(in))
		r.Feed(in[:n], h)
		in = in[n:]
	}
	return h.got
}

func cat(frames ...[]byte) []byte { return bytes.Join(frames, nil) }

func TestReaderRules(t *testing.T) {
	f := func(name string, in []byte, want ...string) {
		t.Helper()
		for _, chunk := range []int{0, 1, 3, 7} {
			got := feed(in, chunk, nil)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("%s (chunks of %d):\n got %q\nwant %q", name, chunk, got, want)
			}
		}
	}
	fr := wstest.Frame
	text := wstest.Text
	cl := wstest.ClosePayload

	// Served.
	f("text", text(`{"a":1}`), `msg 1 "{\"a\":1}"`)
	f("empty text", text(""), `msg 1 ""`)
	f("binary", fr(wstest.FinBinary, []byte{0, 0xff}, false), `msg 2 "\x00\xff"`)
	f("two frames", cat(text("a"), text("b")), `msg 1 "a"`, `msg 1 "b"`)
	f("fragments with a ping between", cat(fr(0x01, []byte("ab"), false), fr(wstest.FinPing, []byte("p"), false), fr(0x80, []byte("c"), false)),
		`ping "p"`, `msg 1 "abc"`)
	f("16-bit length", text(strings.Repeat("x", 300)), fmt.Sprintf("msg 1 %q", strings.Repeat("x", 300)))
	f("ping with 125 bytes", fr(wstest.FinPing, bytes.Repeat([]byte{7}, 125), false), fmt.Sprintf("ping %q", bytes.Repeat([]byte{7}, 125)))
	f("pong", fr(wstest.FinPong, []byte("x"), false), `pong "x"`)
	f("UTF-8 split across fragments", cat(fr(0x01, []byte("\xc3"), false), fr(0x80, []byte("\xa9"), false)), `msg 1 "é"`)
	f("close without a code", fr(wstest.FinClose, nil, false), `close 1005 ""`)
	f("close 1000", fr(wstest.FinClose, cl(1000, "bye"), false), `close 1000 "bye"`)
	f("close 4999", fr(wstest.FinClose, cl(4999, ""), false), `close 4999 ""`)
	f("nothing after a close", cat(fr(wstest.FinClose, cl(1001, ""), false), text("late")), `close 1001 ""`)
	f("limit exactly", text(strings.Repeat("x", 4096)), fmt.Sprintf("msg 1 %q", strings.Repeat("x", 4096)))

	// Refused: the framing is broken, nothing more is parsed.
	f("unmasked", cat(fr(wstest.FinText, []byte("a"), true), text("b")), "error 1002 frame not masked")
	f("RSV1", fr(0xC1, []byte("a"), false), "error 1002 RSV1 set without permessage-deflate")
	f("RSV2", fr(0xA1, []byte("a"), false), "error 1002 reserved bits set")
	f("RSV3", fr(0x91, []byte("a"), false), "error 1002 reserved bits set")
	f("opcode 3", fr(0x83, []byte("a"), false), "error 1002 reserved opcode")
	f("opcode 0xB", fr(0x8B, []byte("a"), false), "error 1002 reserved opcode")
	f("fragmented ping", fr(0x09, []byte("a"), false), "error 1002 fragmented control frame")
	f("ping of 126 bytes", fr(wstest.FinPing, make([]byte, 126), false), "error 1002 control frame over 125 bytes")
	f("close of 126 bytes", fr(wstest.FinClose, cl(1000, strings.Repeat("r", 124)), false), "error 1002 control frame over 125 bytes")
	f("continuation without a start", fr(0x80, []byte("a"), false), "error 1002 continuation frame without a message to continue")
	f("text inside a fragmented message", cat(fr(0x01, []byte("a"), false), text("b")), "error 1002 new message inside a fragmented message")
	f("64-bit length with the top bit", append([]byte{0x81, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1}, wstest.Mask...), "error 1002 invalid frame length")
	f("close with a 1-byte payload", fr(wstest.FinClose, []byte{3}, false), "error 1002 close frame with a 1-byte payload")
	for _, code := range []int{0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535} {
		f(fmt.Sprintf("close code %d", code), fr(wstest.FinClose, cl(code, ""), false), "error 1002 invalid close code")
	}

	// Refused with the framing intact: later data frames are skipped and
	// the peer's close answer still comes through.
	f("text not UTF-8", cat(text("\xff"), text("skipped"), fr(wstest.FinPing, nil, false), fr(wstest.FinClose, cl(1000, ""), false)),
		"error 1007 text message not UTF-8", `close 1000 ""`)
	f("close reason not UTF-8", fr(wstest.FinClose, cl(1000, "\xc3\x28"), false), "error 1007 close reason not UTF-8")
	f("message over the limit", cat(text(strings.Repeat("x", 4097)), fr(wstest.FinPong, []byte("p"), false), fr(wstest.FinClose, cl(1000, ""), false)),
		"error 1009 message too big", `pong "p"`, `close 1000 ""`)
	f("fragments over the limit", cat(fr(0x01, make([]byte, 3000), false), fr(0x80, make([]byte, 1097), false), fr(wstest.FinClose, nil, false)),
		"error 1009 message too big", `close 1005 ""`)
}

// TestReaderSkipsHugeFrameWhileClosing checks that a frame announced at 1
// TiB is refused from its header and its payload skipped as it streams in,
// never buffered, so that the peer's close answer behind it is seen.
func TestReaderSkipsHugeFrameWhileClosing(t *testing.T) {
	var r Reader
	r.Init(4096, nil)
	h := &recorder{}
	hdr := append([]byte{0x81, 0xFF, 0, 0, 0, 0, 0, 0x10, 0, 0}, wstest.Mask...) // 1 MiB text frame
	if r.Feed(hdr, h); len(h.got) != 1 || h.got[0] != "error 1009 message too big" {
		t.Fatalf("Feed(1 MiB header): %q; want close 1009", h.got)
	}
	chunk := make([]byte, 64<<10)
	for i := 0; i < 16; i++ {
		if r.Feed(chunk, h); r.buf != nil {
			t.Fatalf("the skipped payload is buffered (%d bytes)", len(*r.buf))
		}
	}
	r.Feed(wstest.Frame(wstest.FinClose, wstest.ClosePayload(1000, ""), false), h)
	if len(h.got) != 2 || h.got[1] != `close 1000 ""` || !r.Done() {
		t.Fatalf("after the skipped payload: %q, done %v; want the close", h.got, r.Done())
	}
}

// TestReaderClosing checks what a server-initiated close leaves served.
func TestReaderClosing(t *testing.T) {
	var r Reader
	r.Init(4096, nil)
	h := &recorder{}
	r.Closing()
	in := cat(wstest.Text("a"), wstest.Frame(wstest.FinPing, []byte("p"), false), wstest.Frame(wstest.FinPong, []byte("q"), false),
		wstest.Frame(0x83, nil, false), wstest.Text("b"))
	r.Feed(in, h)
	if len(h.got) != 1 || h.got[0] != `pong "q"` || !r.Done() {
		t.Fatalf("closing: %q, done %v; want only the pong, then done at the reserved opcode", h.got, r.Done())
	}
}

// TestReaderAllocs checks that whole frames are served without copying or
// allocating.
func TestReaderAllocs(t *testing.T) {
	var r Reader
	r.Init(4096, nil)
	h := nopHandler{}
	in := cat(wstest.Text(`{"type":"heartbeat"}`), wstest.Frame(wstest.FinPing, nil, false))
	buf := make([]byte, len(in))
	if n := testing.AllocsPerRun(100, func() {
		copy(buf, in)
		r.Feed(buf, h)
	}); n != 0 {
		t.Fatalf("Feed of whole frames: %v allocs; want 0", n)
	}
}

type nopHandler struct{}

func (nopHandler) Message(byte, []byte) {}
func (nopHandler) Ping([]byte)          {}
func (nopHandler) Pong([]byte)          {}
func (nopHandler) Close(int, string)    {}
func (nopHandler) Fail(int, string)     {}

func BenchmarkReaderFeed(b *testing.B) {
	var r Reader
	r.Init(4096, nil)
	in := wstest.Text(`{"type":"subscribe","id":"1","data":{"channels":["token.BTC.trade"]}}`)
	buf := make([]byte, len(in))
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		copy(buf, in)
		r.Feed(buf, nopHandler{})
	}
}

func TestValidCloseCode(t *testing.T) {
	f := func(code int, want bool) {
		t.Helper()
		if got := ValidCloseCode(code); got != want {
			t.Fatalf("ValidCloseCode(%d) = %v; want %v", code, got, want)
		}
	}
	for _, c := range []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999} {
		f(c, true)
	}
	for _, c := range []int{0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000} {
		f(c, false)
	}
}

// FuzzReader feeds arbitrary bytes, in arbitrary splits, and checks that the
// Reader never panics, never hands over more than its limit, never hands
// over invalid UTF-8 text, and reads the same whatever the split; with
// permessage-deflate negotiated (an odd chunk) it inflates RSV1 messages
// with the pooled inflaters, bounded the same way.
func FuzzReader(f *testing.F) {
	z := NewDeflater(1).Deflate(nil, []byte(`{"type":"heartbeat"}`))
	f.Add(wstest.Frame(0xC1, z, false), uint8(1))
	f.Add(cat(wstest.Frame(0x41, z[:2], false), wstest.Frame(0x80, z[2:], false)), uint8(3))
	f.Add(cat(wstest.Text(`{"type":"heartbeat"}`), wstest.Frame(wstest.FinClose, wstest.ClosePayload(1000, "x"), false)), uint8(3))
	f.Add(cat(wstest.Frame(0x01, []byte("ab"), false), wstest.Frame(wstest.FinPing, nil, false), wstest.Frame(0x80, []byte("c"), false)), uint8(1))
	f.Add(wstest.Frame(wstest.FinText, []byte("x"), true), uint8(0))
	f.Add(append([]byte{0x81, 0xFF, 0, 0, 0, 0, 0, 0x10, 0, 0}, wstest.Mask...), uint8(5))
	var inf Inflaters
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8) {
		var inflater Inflater
		if chunk%2 == 1 {
			inflater = &inf
		}
		whole := feed(in, 0, inflater)
		split := feed(in, int(chunk), inflater)
		if strings.Join(whole, "\n") != strings.Join(split, "\n") {
			t.Fatalf("whole %q; in chunks of %d %q", whole, chunk, split)
		}
	})
}
