package ws

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"unicode/utf8"
	"wsfan/ws/wstest"
)

func TestAppendFrameHeader(t *testing.T) {
	f := func(opcode byte, n int, wantHeader []byte) {
		t.Helper()
		h := AppendFrameHeader(nil, opcode, n)
		if !bytes.Equal(h, wantHeader) {
			t.Fatalf("AppendFrameHeader(%#x, %d) = % x; want % x", opcode, n, h, wantHeader)
		}
		if len(h) != HeaderLen(n) {
			t.Fatalf("HeaderLen(%d) = %d; header is %d bytes", n, HeaderLen(n), len(h))
		}
		fr, rest := wstest.MustSplit(t, append(h, make([]byte, n)...))
		if !fr.Fin || fr.RSV != 0 || fr.Op != opcode&0x0F || len(fr.Payload) != n || len(rest) != 0 {
			t.Fatalf("AppendFrameHeader(%#x, %d) reads back as %+v (%d payload bytes)", opcode, n, fr, len(fr.Payload))
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
		fr, rest := wstest.MustSplit(t, b[4:])
		if !fr.Fin || fr.Op != OpText || !bytes.Equal(fr.Payload, payload) || len(rest) != 0 {
			t.Fatalf("AppendTextFrame(%d bytes) reads back as fin=%v opcode=%d %d bytes, %d trailing", n, fr.Fin, fr.Op, len(fr.Payload), len(rest))
		}
	}
	for _, n := range []int{0, 1, 125, 126, 127, 65535, 65536, 70000} {
		f(n)
	}
}

func TestAppendCloseFrame(t *testing.T) {
	f := func(code int, reason, wantReason string) {
		t.Helper()
		b := AppendCloseFrame(nil, code, reason)
		fr, rest := wstest.MustSplit(t, b)
		if !fr.Fin || fr.Op != OpClose || len(rest) != 0 {
			t.Fatalf("AppendCloseFrame(%d, %q) = % x: not one close frame", code, reason, b)
		}
		if len(fr.Payload) > MaxControlPayload || len(b) != 2+len(fr.Payload) {
			t.Fatalf("AppendCloseFrame(%d, %q): payload of %d bytes; a control frame holds at most 125", code, reason, len(fr.Payload))
		}
		if got := int(binary.BigEndian.Uint16(fr.Payload)); got != code {
			t.Fatalf("AppendCloseFrame code = %d; want %d", got, code)
		}
		if got := string(fr.Payload[2:]); got != wantReason || !utf8.ValidString(got) {
			t.Fatalf("AppendCloseFrame reason = %q; want %q", got, wantReason)
		}
	}
	f(CloseGoingAway, "shutdown", "shutdown")
	f(ClosePolicyViolation, "slow consumer", "slow consumer")
	f(CloseMessageTooBig, "message too big", "message too big")
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
