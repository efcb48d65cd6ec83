package rawserver

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"wsfan/bench/internal/rfc6455"
)

// WebSocket opcodes (RFC 6455 §5.2).
const (
	opText  = 0x1
	opClose = 0x8
	opPing  = 0x9
	opPong  = 0xA
)

// maxClientFrame bounds a client frame's payload, as wsfan's
// max_message_bytes default does: client frames are commands.
const maxClientFrame = 4096

var (
	errFrameTooBig  = errors.New("rawserver: client frame too big")
	errUnmasked     = errors.New("rawserver: unmasked client frame")
	errFragmented   = errors.New("rawserver: fragmented or reserved-bit client frame")
	errBadHandshake = errors.New("rawserver: not a WebSocket upgrade of GET /ws")
)

// handshake reads the upgrade request from br and returns the 101
// response to send, or errBadHandshake.
func handshake(br *bufio.Reader) ([]byte, error) {
	req, err := http.ReadRequest(br)
	if err != nil {
		return nil, fmt.Errorf("cannot read the upgrade request: %w", err)
	}
	key := req.Header.Get("Sec-WebSocket-Key")
	if req.Method != http.MethodGet || req.URL.Path != "/ws" || key == "" ||
		!rfc6455.HeaderHas(req.Header, "Upgrade", "websocket") || !rfc6455.HeaderHas(req.Header, "Connection", "upgrade") ||
		req.Header.Get("Sec-WebSocket-Version") != "13" {
		return nil, errBadHandshake
	}
	return []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
		rfc6455.AcceptKey(key) + "\r\n\r\n"), nil
}

// readFrame reads one client frame into buf (grown as needed) and returns
// its opcode and unmasked payload, which aliases buf.
func readFrame(br *bufio.Reader, buf []byte) (byte, []byte, error) {
	var h [14]byte
	if _, err := io.ReadFull(br, h[:2]); err != nil {
		return 0, nil, err
	}
	if h[0]&0x80 == 0 || h[0]&0x70 != 0 {
		return 0, nil, errFragmented
	}
	if h[1]&0x80 == 0 {
		return 0, nil, errUnmasked
	}
	op := h[0] & 0x0F
	n := uint64(h[1] & 0x7F)
	switch n {
	case 126:
		if _, err := io.ReadFull(br, h[2:4]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(h[2:4]))
	case 127:
		if _, err := io.ReadFull(br, h[2:10]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(h[2:10])
	}
	if n > maxClientFrame {
		return 0, nil, errFrameTooBig
	}
	var mask [4]byte
	if _, err := io.ReadFull(br, mask[:]); err != nil {
		return 0, nil, err
	}
	if uint64(cap(buf)) < n {
		buf = make([]byte, n)
	}
	p := buf[:n]
	if _, err := io.ReadFull(br, p); err != nil {
		return 0, nil, err
	}
	for i := range p {
		p[i] ^= mask[i&3]
	}
	return op, p, nil
}

// appendFrameHeader appends the header of a final, unmasked server frame
// of opcode op with an n-byte payload.
func appendFrameHeader(dst []byte, op byte, n int) []byte {
	dst = append(dst, 0x80|op)
	switch {
	case n < 126:
		return append(dst, byte(n))
	case n <= 0xFFFF:
		return append(dst, 126, byte(n>>8), byte(n))
	default:
		dst = append(dst, 127)
		return binary.BigEndian.AppendUint64(dst, uint64(n))
	}
}

// serverFrame returns payload as one server frame of opcode op.
func serverFrame(op byte, payload []byte) []byte {
	return append(appendFrameHeader(make([]byte, 0, len(payload)+10), op, len(payload)), payload...)
}

// messageFrame builds a publication's text frame once:
// {"type":"message","channel":C,"seq":N,"ts":T,"data":D}, as wsfan's
// envelope, with data byte for byte.
func messageFrame(channel string, seq uint64, ts int64, data []byte) []byte {
	env := make([]byte, 0, 64+len(channel)+len(data))
	env = append(env, `{"type":"message","channel":"`...)
	env = append(env, channel...)
	env = append(env, `","seq":`...)
	env = strconv.AppendUint(env, seq, 10)
	env = append(env, `,"ts":`...)
	env = strconv.AppendInt(env, ts, 10)
	env = append(env, `,"data":`...)
	env = append(env, data...)
	env = append(env, '}')
	return serverFrame(opText, env)
}

// validChannel reports whether name is a concrete channel name of
// PROTOCOL.md: tokens of [A-Za-z0-9_-] joined by '.', at most 128 bytes
// and 16 tokens (no wildcards: the reference has no patterns).
func validChannel(name string) bool {
	if name == "" || len(name) > 128 {
		return false
	}
	tokens, n := 1, 0
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c == '.':
			if n == 0 {
				return false
			}
			tokens, n = tokens+1, 0
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
			n++
		default:
			return false
		}
	}
	return n > 0 && tokens <= 16
}
