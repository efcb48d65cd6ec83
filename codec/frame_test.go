package codec

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"unicode/utf8"
)

// wsFrame is one frame as a client reads it.
type wsFrame struct {
	fin     bool
	rsv     byte
	opcode  byte
	masked  bool
	payload []byte
}

// readFrame is a tiny RFC 6455 frame reader (section 5.2) that also checks
// the rule that the minimal length encoding be used. It returns the frame and
// the bytes after it.
func readFrame(t *testing.T, b []byte) (wsFrame, []byte) {
	t.Helper()
	if len(b) < 2 {
		t.Fatalf("frame shorter than 2 bytes: % x", b)
	}
	fr := wsFrame{fin: b[0]&0x80 != 0, rsv: b[0] & 0x70, opcode: b[0] & 0x0F, masked: b[1]&0x80 != 0}
	n := uint64(b[1] & 0x7F)
	b = b[2:]
	switch n {
	case 126:
		if len(b) < 2 {
			t.Fatalf("truncated 16-bit length")
		}
		n = uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
		if n < 126 {
			t.Fatalf("16-bit length %d used for a payload that fits 7 bits", n)
		}
	case 127:
		if len(b) < 8 {
			t.Fatalf("truncated 64-bit length")
		}
		n = binary.BigEndian.Uint64(b)
		b = b[8:]
		if n>>63 != 0 {
			t.Fatalf("64-bit length has its most significant bit set")
		}
		if n <= 0xFFFF {
			t.Fatalf("64-bit length %d used for a payload that fits 16 bits", n)
		}
	}
	if fr.masked {
		t.Fatalf("server frame is masked")
	}
	if uint64(len(b)) < n {
		t.Fatalf("payload length %d, but only %d bytes follow", n, len(b))
	}
	fr.payload = b[:n]
	return fr, b[n:]
}

func TestAppendFrameHeader(t *testing.T) {
	f := func(opcode byte, n int, wantHeader []byte) {
		t.Helper()
		h := AppendFrameHeader(nil, opcode, n)
		if !bytes.Equal(h, wantHeader) {
			t.Fatalf("AppendFrameHeader(%#x, %d) = % x; want % x", opcode, n, h, wantHeader)
		}
		if len(h) != frameHeaderLen(n) {
			t.Fatalf("frameHeaderLen(%d) = %d; header is %d bytes", n, frameHeaderLen(n), len(h))
		}
		fr, rest := readFrame(t, append(h, make([]byte, n)...))
		if !fr.fin || fr.rsv != 0 || fr.opcode != opcode&0x0F || len(fr.payload) != n || len(rest) != 0 {
			t.Fatalf("AppendFrameHeader(%#x, %d) reads back as %+v (%d payload bytes)", opcode, n, fr, len(fr.payload))
		}
	}
	f(OpText, 0, []byte{0x81, 0})
	f(OpText, 125, []byte{0x81, 125})
	f(OpText, 126, []byte{0x81, 126, 0, 126})
	f(OpBinary, 65535, []byte{0x82, 126, 0xFF, 0xFF})
	f(OpText, 65536, []byte{0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0})
	f(OpText, 1<<20+3, []byte{0x81, 127, 0, 0, 0, 0, 0, 0x10, 0, 3})
	f(OpClose, 2, []byte{0x88, 2})
	f(OpPing, 0, []byte{0x89, 0})
	f(OpPong, 5, []byte{0x8A, 5})
	f(0xF1, 1, []byte{0x81, 1}) // only the low 4 bits of opcode count

	defer func() {
		if recover() == nil {
			t.Fatalf("AppendFrameHeader with a negative length did not panic")
		}
	}()
	AppendFrameHeader(nil, OpText, -1)
}

func TestAppendTextFrame(t *testing.T) {
	f := func(n int) {
		t.Helper()
		payload := bytes.Repeat([]byte{'a'}, n)
		b := AppendTextFrame([]byte("keep"), payload)
		if string(b[:4]) != "keep" {
			t.Fatalf("AppendTextFrame did not keep dst")
		}
		fr, rest := readFrame(t, b[4:])
		if !fr.fin || fr.opcode != OpText || !bytes.Equal(fr.payload, payload) || len(rest) != 0 {
			t.Fatalf("AppendTextFrame(%d bytes) reads back as fin=%v opcode=%d %d bytes, %d trailing", n, fr.fin, fr.opcode, len(fr.payload), len(rest))
		}
	}
	for _, n := range []int{0, 1, 125, 126, 127, 65535, 65536, 70000} {
		f(n)
	}
}

// TestAppendMessageFrame checks the frame around the envelope on both sides
// of each header-size boundary, for channels, seqs and timestamps of every
// encoded length class.
func TestAppendMessageFrame(t *testing.T) {
	f := func(channel string, seq uint64, ts int64, data []byte) {
		t.Helper()
		want := AppendMessage(nil, channel, seq, ts, data)
		b := AppendMessageFrame([]byte("keep"), channel, seq, ts, data)
		fr, rest := readFrame(t, b[4:])
		if string(b[:4]) != "keep" || !fr.fin || fr.opcode != OpText || len(rest) != 0 || !bytes.Equal(fr.payload, want) {
			t.Fatalf("AppendMessageFrame(%q, %d, %d, %d data bytes): frame does not hold AppendMessage's envelope", channel, seq, ts, len(data))
		}
		if !json.Valid(fr.payload) {
			t.Fatalf("AppendMessageFrame payload is not JSON")
		}
	}
	channels := []string{"", "c", "token.BTC.trade", "c\"\n\x01\xff\u2028é", strings.Repeat("\x01", 128)}
	nums := []struct {
		seq uint64
		ts  int64
	}{{0, 0}, {1043, 1764236400123}, {math.MaxUint64, math.MinInt64}}
	for _, ch := range channels {
		for _, num := range nums {
			for _, total := range []int{125, 126, 65535, 65536} {
				for d := -8; d <= 8; d++ {
					dataLen := total + d - messageLen(ch, num.seq, num.ts, []byte("00"))
					if dataLen < 2 {
						continue
					}
					f(ch, num.seq, num.ts, []byte(`"`+strings.Repeat("x", dataLen-2)+`"`))
				}
			}
		}
	}
	f("c", 1, 2, nil)
	f("c", 1, 2, []byte("1"))
}

func TestAppendCloseFrame(t *testing.T) {
	f := func(code int, reason, wantReason string) {
		t.Helper()
		b := AppendCloseFrame(nil, code, reason)
		fr, rest := readFrame(t, b)
		if !fr.fin || fr.opcode != OpClose || len(rest) != 0 {
			t.Fatalf("AppendCloseFrame(%d, %q) = % x: not one close frame", code, reason, b)
		}
		if len(fr.payload) > MaxControlPayload || len(b) != 2+len(fr.payload) {
			t.Fatalf("AppendCloseFrame(%d, %q): payload of %d bytes; a control frame holds at most 125", code, reason, len(fr.payload))
		}
		if got := int(binary.BigEndian.Uint16(fr.payload)); got != code {
			t.Fatalf("AppendCloseFrame code = %d; want %d", got, code)
		}
		if got := string(fr.payload[2:]); got != wantReason || !utf8.ValidString(got) {
			t.Fatalf("AppendCloseFrame reason = %q; want %q", got, wantReason)
		}
	}
	f(CloseGoingAway, CloseReasonShutdown, "shutdown")
	f(ClosePolicyViolation, CloseReasonSlowConsumer, "slow consumer")
	f(ClosePolicyViolation, CloseReasonTokenExpired, "token expired")
	f(CloseMessageTooBig, CloseReasonMessageTooBig, "message too big")
	f(ClosePolicyViolation, CloseReasonRateLimited, "rate limited")
	f(CloseNormal, "", "")
	long := strings.Repeat("r", 200)
	f(CloseNormal, long, long[:MaxCloseReason])
	f(CloseNormal, long[:MaxCloseReason], long[:MaxCloseReason])
	// A cut in the middle of a rune backs up to the rune's start.
	f(CloseNormal, strings.Repeat("r", 122)+"é", strings.Repeat("r", 122))
	f(CloseNormal, strings.Repeat("r", 121)+"😀", strings.Repeat("r", 121))
	f(CloseNormal, strings.Repeat("r", 119)+"😀x", strings.Repeat("r", 119)+"😀")
	f(CloseNormal, strings.Repeat("é", 100), strings.Repeat("é", 61))
}
