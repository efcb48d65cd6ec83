package codec

import "encoding/binary"

// WebSocket opcodes (RFC 6455, section 5.2).
const (
	OpContinuation byte = 0x0
	OpText         byte = 0x1
	OpBinary       byte = 0x2
	OpClose        byte = 0x8
	OpPing         byte = 0x9
	OpPong         byte = 0xA
)

// Close codes the server sends (PROTOCOL.md, "Close codes"; RFC 6455, section 7.4.1).
const (
	CloseNormal          = 1000
	CloseGoingAway       = 1001 // with CloseReasonShutdown
	ClosePolicyViolation = 1008 // with CloseReasonSlowConsumer, CloseReasonTokenExpired or CloseReasonRateLimited
	CloseMessageTooBig   = 1009 // with CloseReasonMessageTooBig
)

// Close reasons the server sends, byte for byte as PROTOCOL.md lists them.
const (
	CloseReasonShutdown      = "shutdown"
	CloseReasonSlowConsumer  = "slow consumer"
	CloseReasonTokenExpired  = "token expired"
	CloseReasonMessageTooBig = "message too big"
	CloseReasonRateLimited   = "rate limited"
)

const (
	// MaxControlPayload is the largest payload of a control frame (close,
	// ping, pong), in bytes (RFC 6455, section 5.5).
	MaxControlPayload = 125
	// MaxCloseReason is the longest close reason, in bytes: a control
	// payload less the 2-byte code.
	MaxCloseReason = MaxControlPayload - 2

	finBit = 0x80 // first header byte: final fragment
)

// AppendFrameHeader appends the header of a server frame (FIN set, unmasked,
// no extension bits) for opcode (low 4 bits used) and a payload of payloadLen
// bytes, using the 7-, 16- or 64-bit length form RFC 6455 requires, and
// returns the extended slice. It panics if payloadLen is negative.
func AppendFrameHeader(dst []byte, opcode byte, payloadLen int) []byte {
	b0 := finBit | opcode&0x0F
	switch {
	case payloadLen < 0:
		panic("codec: negative frame payload length")
	case payloadLen <= 125:
		return append(dst, b0, byte(payloadLen))
	case payloadLen <= 0xFFFF:
		return append(dst, b0, 126, byte(payloadLen>>8), byte(payloadLen))
	default:
		return binary.BigEndian.AppendUint64(append(dst, b0, 127), uint64(payloadLen))
	}
}

// frameHeaderLen returns the length of AppendFrameHeader's output for payloadLen.
func frameHeaderLen(payloadLen int) int {
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
// a UTF-8 boundary, and returns the extended slice. code is not checked
// against RFC 6455's list of codes a frame may carry.
func AppendCloseFrame(dst []byte, code int, reason string) []byte {
	if len(reason) > MaxCloseReason {
		reason = reason[:runeStart(reason, MaxCloseReason)]
	}
	dst = AppendFrameHeader(dst, OpClose, 2+len(reason))
	dst = append(dst, byte(code>>8), byte(code))
	return append(dst, reason...)
}
