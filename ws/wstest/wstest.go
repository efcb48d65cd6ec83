package wstest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"testing"
)

// Mask is the masking key of every client frame Frame builds; not zero, so a
// server that forgot to unmask would read garbage.
const Mask = "\x5a\xc3\x0f\x96"

// First header bytes of client frames: FIN plus an opcode.
const (
	FinText   = 0x81
	FinBinary = 0x82
	FinClose  = 0x88
	FinPing   = 0x89
	FinPong   = 0x8A
)

// Frame returns one client frame whose first header byte is b0 (FIN, RSV
// bits, opcode), with the shortest length form for payload; the payload is
// masked with Mask unless unmasked is set.
func Frame(b0 byte, payload []byte, unmasked bool) []byte {
	mask := byte(0x80)
	if unmasked {
		mask = 0
	}
	b := []byte{b0}
	switch n := len(payload); {
	case n <= 125:
		b = append(b, mask|byte(n))
	case n <= 0xFFFF:
		b = append(b, mask|126, byte(n>>8), byte(n))
	default:
		b = binary.BigEndian.AppendUint64(append(b, mask|127), uint64(n))
	}
	if unmasked {
		return append(b, payload...)
	}
	b = append(b, Mask...)
	for i, c := range payload {
		b = append(b, c^Mask[i%4])
	}
	return b
}

// Text is a masked, final text frame holding s.
func Text(s string) []byte { return Frame(FinText, []byte(s), false) }

// ClosePayload is a close frame's payload: code, then reason.
func ClosePayload(code int, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(code)), reason...)
}

// CloseOf splits a close frame's payload into its code and reason; 1005
// when the payload holds no code.
func CloseOf(p []byte) (int, string) {
	if len(p) < 2 {
		return 1005, ""
	}
	return int(binary.BigEndian.Uint16(p)), string(p[2:])
}

// ServerFrame is one frame as a client reads it.
type ServerFrame struct {
	Fin     bool
	RSV     byte // the three RSV bits, in place (0x70 mask)
	Op      byte
	Payload []byte
}

// ReadFrame reads one server frame from r. It fails on a masked frame (a
// server never masks), on a length that does not use the shortest form
// (RFC 6455, section 5.2), and on payloads over limit bytes.
func ReadFrame(r io.Reader, limit int) (ServerFrame, error) {
	var h [10]byte
	if _, err := io.ReadFull(r, h[:2]); err != nil {
		return ServerFrame{}, err
	}
	if h[1]&0x80 != 0 {
		return ServerFrame{}, errors.New("server frame is masked")
	}
	n := uint64(h[1] & 0x7F)
	switch n {
	case 126:
		if _, err := io.ReadFull(r, h[2:4]); err != nil {
			return ServerFrame{}, err
		}
		if n = uint64(binary.BigEndian.Uint16(h[2:4])); n < 126 {
			return ServerFrame{}, fmt.Errorf("16-bit length %d fits 7 bits", n)
		}
	case 127:
		if _, err := io.ReadFull(r, h[2:10]); err != nil {
			return ServerFrame{}, err
		}
		if n = binary.BigEndian.Uint64(h[2:10]); n <= 0xFFFF || n>>63 != 0 {
			return ServerFrame{}, fmt.Errorf("64-bit length %d fits 16 bits or has its top bit set", n)
		}
	}
	if n > uint64(limit) {
		return ServerFrame{}, fmt.Errorf("server frame of %d bytes; limit %d", n, limit)
	}
	f := ServerFrame{Fin: h[0]&0x80 != 0, RSV: h[0] & 0x70, Op: h[0] & 0x0F, Payload: make([]byte, n)}
	if _, err := io.ReadFull(r, f.Payload); err != nil {
		return ServerFrame{}, err
	}
	return f, nil
}

// SplitFrame reads the server frame at the start of b and returns it and
// the bytes after it.
func SplitFrame(b []byte) (ServerFrame, []byte, error) {
	r := bytes.NewReader(b)
	f, err := ReadFrame(r, len(b))
	return f, b[len(b)-r.Len():], err
}

// MustSplit is SplitFrame for tests: it fails t on a malformed frame.
func MustSplit(t testing.TB, b []byte) (ServerFrame, []byte) {
	t.Helper()
	f, rest, err := SplitFrame(b)
	if err != nil {
		t.Fatalf("% .40x: %v", b, err)
	}
	return f, rest
}
