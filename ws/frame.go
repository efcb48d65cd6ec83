package ws

import (
	"encoding/binary"

	"wsfan/lib/textcut"
)

// Opcodes (RFC 6455, section 5.2).
const (
	OpContinuation byte = 0x0
	OpText         byte = 0x1
	OpBinary       byte = 0x2
	OpClose        byte = 0x8
	OpPing         byte = 0x9
	OpPong         byte = 0xA
)

// Close codes of RFC 6455 section 7.4.1 that this server sends.
const (
	CloseNormal          = 1000
	CloseGoingAway       = 1001
	CloseProtocolError   = 1002
	CloseNoStatus        = 1005 // never on the wire: a close frame without a code
	CloseInvalidPayload  = 1007 // e.g. a text message that is not UTF-8
	ClosePolicyViolation = 1008
	CloseMessageTooBig   = 1009
)

const (
	// MaxControlPayload is the largest payload of a control frame (close,
	// ping, pong), in bytes (RFC 6455, section 5.5).
	MaxControlPayload = 125
	// MaxCloseReason is the longest close reason, in bytes: a control
	// payload less the 2-byte code.
	MaxCloseReason = MaxControlPayload - 2
	// MaxHeaderLen is the longest frame header: 2 bytes, a 64-bit length
	// and a masking key.
	MaxHeaderLen = 14

	finBit  = 0x80 // first header byte: final fragment
	rsv1Bit = 0x40 // first header byte: per-message compression (RFC 7692)
)

// AppendFrameHeader appends the header of a server frame (FIN set, unmasked,
// no extension bits) for opcode (low 4 bits used) and a payload of payloadLen
// bytes, using the 7-, 16- or 64-bit length form RFC 6455 requires, and
// returns the extended slice. It panics if payloadLen is negative.
func AppendFrameHeader(dst []byte, opcode byte, payloadLen int) []byte {
	return appendHeader(dst, finBit|opcode&0x0F, payloadLen)
}

// AppendCompressedHeader is AppendFrameHeader with RSV1 set: the header of
// a data frame whose payload is a deflated message (RFC 7692, section 6).
func AppendCompressedHeader(dst []byte, opcode byte, payloadLen int) []byte {
	return appendHeader(dst, finBit|rsv1Bit|opcode&0x0F, payloadLen)
}

func appendHeader(dst []byte, b0 byte, payloadLen int) []byte {
	switch {
	case payloadLen < 0:
		panic("ws: negative frame payload length")
	case payloadLen <= 125:
		return append(dst, b0, byte(payloadLen))
	case payloadLen <= 0xFFFF:
		return append(dst, b0, 126, byte(payloadLen>>8), byte(payloadLen))
	default:
		return binary.BigEndian.AppendUint64(append(dst, b0, 127), uint64(payloadLen))
	}
}

// HeaderLen returns the length of AppendFrameHeader's output for payloadLen.
func HeaderLen(payloadLen int) int {
	switch {
	case payloadLen <= 125:
		return 2
	case payloadLen <= 0xFFFF:
		return 4
	default:
		return 10
	}
}

// AppendTextFrame appends a server text frame (FIN set, unmasked) carrying
// payload, which must be valid UTF-8, and returns the extended slice.
func AppendTextFrame(dst []byte, payload []byte) []byte {
	dst = AppendFrameHeader(dst, OpText, len(payload))
	return append(dst, payload...)
}

// AppendCloseFrame appends a server close frame whose payload is code (2
// bytes, big-endian) followed by reason cut to at most MaxCloseReason bytes on
// a UTF-8 boundary, and returns the extended slice. code CloseNoStatus gives
// a close frame without a payload; other codes are not checked.
func AppendCloseFrame(dst []byte, code int, reason string) []byte {
	if code == CloseNoStatus {
		return AppendFrameHeader(dst, OpClose, 0)
	}
	reason = textcut.Prefix(reason, MaxCloseReason)
	dst = AppendFrameHeader(dst, OpClose, 2+len(reason))
	dst = append(dst, byte(code>>8), byte(code))
	return append(dst, reason...)
}
