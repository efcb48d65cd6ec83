package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"

	"wsfan/bench/internal/rfc6455"
)

// WebSocket opcodes (RFC 6455 §5.2).
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// maxServerFrame bounds one server frame's payload; past it the stream is
// taken as corrupt.
const maxServerFrame = 16 << 20

var (
	errMaskedFrame = errors.New("bench: the server sent a masked frame")
	errRSVBits     = errors.New("bench: the server set reserved bits")
	errFrameSize   = errors.New("bench: server frame over 16 MiB")
)

// rawConn is the client side of one WebSocket after the handshake, with
// the load generator's own frame reader: it parses server frames in place
// in nbio's read buffer and keeps only a partial frame between reads, so a
// delivery costs no copy and no allocation. (nbio's websocket.Conn copies
// every read and every message into pooled buffers: half the load
// generator's CPU at 200 frames per read.) Parse and the handlers run on
// the connection's poller goroutine, one read at a time; the write methods
// may be called from any goroutine.
type rawConn struct {
	conn  net.Conn             // the socket (UnderlayerConn)
	write func([]byte) error   // hands bytes to the socket
	shut  func() error         // closes the socket
	text  func(payload []byte) // a text or binary message; payload is valid during the call
	gone  func(err error)      // the socket closed; called once
	// inflate: permessage-deflate was negotiated; RSV1 messages are
	// inflated before text sees them.
	inflate bool

	rest []byte // a partial frame from the previous reads; poller only

	mu         sync.Mutex
	sentClose  bool   // guarded by mu
	peerCode   int    // the peer's close frame: code (1005: none given), 0: none; guarded by mu
	peerReason string // guarded by mu
	goneOnce   sync.Once
}

// peerClose returns the peer's close code and reason; code 0 when the
// peer sent no close frame.
func (r *rawConn) peerClose() (int, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.peerCode, r.peerReason
}

// UnderlayerConn, Parse and CloseAndClean make a rawConn an nbhttp
// ParserCloser, so that nbio's engine hands it reads and closes.
func (r *rawConn) UnderlayerConn() net.Conn { return r.conn }

// CloseAndClean is nbio's close notification.
func (r *rawConn) CloseAndClean(err error) {
	r.goneOnce.Do(func() { r.gone(err) })
}

// Parse consumes one read. It returns an error for a stream that is not
// a server's WebSocket stream; nbio then closes the connection.
func (r *rawConn) Parse(data []byte) error {
	buf := data
	if len(r.rest) > 0 {
		r.rest = append(r.rest, data...)
		buf = r.rest
	}
	for {
		n, err := r.frame(buf)
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		buf = buf[n:]
	}
	switch {
	case len(buf) == 0:
		r.rest = r.rest[:0]
		if cap(r.rest) > 64<<10 {
			r.rest = nil // a big frame passed: do not keep its buffer per connection
		}
	case len(r.rest) > 0:
		r.rest = r.rest[:copy(r.rest, buf)] // buf is a suffix of rest
	default:
		r.rest = append(r.rest[:0], buf...)
	}
	return nil
}

// frame handles the frame at the start of b and returns its length, or 0
// when b does not hold a whole frame yet.
func (r *rawConn) frame(b []byte) (int, error) {
	if len(b) < 2 {
		return 0, nil
	}
	rsv := b[0] & 0x70
	if rsv != 0 && (rsv != 0x40 || !r.inflate) {
		return 0, errRSVBits
	}
	if b[1]&0x80 != 0 {
		return 0, errMaskedFrame
	}
	fin, op := b[0]&0x80 != 0, b[0]&0x0F
	if rsv != 0 && op >= opClose {
		return 0, errRSVBits
	}
	n, hl := uint64(b[1]&0x7F), 2
	switch n {
	case 126:
		if len(b) < 4 {
			return 0, nil
		}
		n, hl = uint64(binary.BigEndian.Uint16(b[2:4])), 4
	case 127:
		if len(b) < 10 {
			return 0, nil
		}
		n, hl = binary.BigEndian.Uint64(b[2:10]), 10
	}
	if n > maxServerFrame {
		return 0, errFrameSize
	}
	end := hl + int(n)
	if len(b) < end {
		return 0, nil
	}
	payload := b[hl:end]
	switch op {
	case opText, opBinary:
		if !fin {
			return 0, fmt.Errorf("bench: fragmented server message (opcode %d)", op)
		}
		if rsv != 0 {
			if err := inflate(payload, r.text); err != nil {
				return 0, fmt.Errorf("bench: cannot inflate a server message: %w", err)
			}
			break
		}
		r.text(payload)
	case opContinuation:
		return 0, errors.New("bench: fragmented server message (continuation)")
	case opPing:
		_ = r.write(rfc6455.AppendClientFrame(nil, opPong, payload))
	case opPong:
	case opClose:
		code, reason := 1005, ""
		if len(payload) >= 2 {
			code, reason = int(binary.BigEndian.Uint16(payload)), string(payload[2:])
		}
		r.mu.Lock()
		r.peerCode, r.peerReason = code, reason
		r.mu.Unlock()
		// Answer the close unless we sent ours, then close the socket:
		// the server waits for the answer (or its close grace).
		if r.markClose() {
			_ = r.write(rfc6455.AppendClientFrame(nil, opClose, payload[:min(len(payload), 2)]))
		}
		_ = r.shut()
	default:
		return 0, fmt.Errorf("bench: unknown server opcode %d", op)
	}
	return end, nil
}

// markClose records that a close frame is being sent; false if one was.
func (r *rawConn) markClose() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sentClose {
		return false
	}
	r.sentClose = true
	return true
}

// writeText sends one text frame.
func (r *rawConn) writeText(b []byte) error {
	return r.write(rfc6455.AppendClientFrame(nil, opText, b))
}

// writeClose sends a close frame with code, once.
func (r *rawConn) writeClose(code int) error {
	if !r.markClose() {
		return nil
	}
	var p [2]byte
	binary.BigEndian.PutUint16(p[:], uint16(code))
	return r.write(rfc6455.AppendClientFrame(nil, opClose, p[:]))
}

func (r *rawConn) close() error { return r.shut() }
