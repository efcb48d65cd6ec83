package codec

import (
	"bytes"
	"slices"
	"strconv"

	"wsfan/lib/textcut"
	"wsfan/ws"
)

// Rejection is one channel refused in a subscription_ack.
type Rejection struct {
	Channel string
	Code    string // one of the Code constants
	Message string
}

// Position is a channel's latest position in a subscription_ack (history).
type Position struct {
	Channel string
	Epoch   string
	Seq     uint64
}

// Fixed parts of the message envelope.
const (
	msgPrefix = `{"type":"message","channel":`
	msgSeq    = `,"seq":`
	msgConfl  = `,"conflated":`
	msgTS     = `,"ts":`
	msgData   = `,"data":`
	msgSuffix = `}`
)

// AppendMessage appends the JSON envelope
// {"type":"message","channel":...,"seq":N,"ts":N,"data":<data verbatim>}
// and returns the extended slice. ts is Unix milliseconds. data must be one
// valid JSON value and is not checked (DecodePublish checks what publishers
// send); empty data is written as null so the envelope stays valid JSON. It
// allocates nothing when dst has capacity for the result, and grows dst at
// most once otherwise.
func AppendMessage(dst []byte, channel string, seq uint64, ts int64, data []byte) []byte {
	_, hi := messageLenBounds(channel, 0, data)
	return appendMessage(slices.Grow(dst, hi), channel, seq, 0, ts, data)
}

// appendMessage is AppendMessage without the up-front growth, with
// "conflated":conflated after seq when conflated is not 0.
func appendMessage(dst []byte, channel string, seq, conflated uint64, ts int64, data []byte) []byte {
	dst = append(dst, msgPrefix...)
	dst = AppendJSONString(dst, channel)
	dst = append(dst, msgSeq...)
	dst = strconv.AppendUint(dst, seq, 10)
	if conflated > 0 {
		dst = append(dst, msgConfl...)
		dst = strconv.AppendUint(dst, conflated, 10)
	}
	dst = append(dst, msgTS...)
	dst = strconv.AppendInt(dst, ts, 10)
	dst = append(dst, msgData...)
	if len(data) == 0 {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, data...)
	}
	return append(dst, msgSuffix...)
}

// msgFixedLen is the length of the envelope's fixed parts.
const msgFixedLen = len(msgPrefix) + len(msgSeq) + len(msgTS) + len(msgData) + len(msgSuffix)

// messageLen returns the length of appendMessage's envelope without
// encoding it.
func messageLen(channel string, seq, conflated uint64, ts int64, data []byte) int {
	n := msgFixedLen + jsonStringLen(channel) + uintLen(seq) + intLen(ts) + envDataLen(data)
	if conflated > 0 {
		n += len(msgConfl) + uintLen(conflated)
	}
	return n
}

// envDataLen returns the length data takes in the envelope.
func envDataLen(data []byte) int {
	if len(data) == 0 {
		return len("null")
	}
	return len(data)
}

// messageLenBounds returns cheap lower and upper bounds of messageLen for
// any seq and ts: a channel byte takes 1 to 6 bytes once escaped, a number 1
// to 20.
func messageLenBounds(channel string, conflated uint64, data []byte) (lo, hi int) {
	n := msgFixedLen + 2 + envDataLen(data)
	if conflated > 0 {
		n += len(msgConfl) + uintLen(conflated)
	}
	return n + len(channel) + 1 + 1, n + 6*len(channel) + 20 + 20
}

// AppendMessageFrame appends one complete server WebSocket text frame (FIN,
// opcode 1, unmasked, never fragmented) whose payload is AppendMessage's
// envelope, and returns the extended slice. It allocates nothing when dst
// has capacity for the frame, and grows dst at most once otherwise.
//
// The header's size (2, 4 or 10 bytes) is known before encoding whenever
// messageLenBounds fall in the same size class, which holds for all but
// envelopes near 125 or 65535 bytes; those are measured exactly first. The
// payload is then encoded in place after the header and never moved.
func AppendMessageFrame(dst []byte, channel string, seq uint64, ts int64, data []byte) []byte {
	return AppendConflatedFrame(dst, channel, seq, 0, ts, data)
}

// AppendConflatedFrame is AppendMessageFrame for a message of a conflated
// channel that stands for conflated earlier publications it replaced: its
// envelope carries "conflated":N after seq (none when conflated is 0).
func AppendConflatedFrame(dst []byte, channel string, seq, conflated uint64, ts int64, data []byte) []byte {
	lo, hi := messageLenBounds(channel, conflated, data)
	hl := ws.HeaderLen(lo)
	if hl != ws.HeaderLen(hi) {
		hl = ws.HeaderLen(messageLen(channel, seq, conflated, ts, data))
	}
	start := len(dst)
	dst = slices.Grow(dst, hl+hi)[:start+hl]
	dst = appendMessage(dst, channel, seq, conflated, ts, data)
	n := len(dst) - start - hl
	if ws.HeaderLen(n) != hl {
		// A header that disagrees with its payload would desynchronise every
		// subscriber's stream; tests and fuzzing hold the bounds to this.
		panic("codec: message frame header size mismatch")
	}
	ws.AppendFrameHeader(dst[start:start], ws.OpText, n) // writes into the hl bytes reserved
	return dst
}

// MaxAckBytesPerChannel bounds what one channel of a subscribe adds to its
// subscription_ack: a rejection quoting the name (cut to MaxQuotedChannel
// bytes, each escaped to at most 6) with a code and a server message, or a
// subscribed name with its position. Server messages are at most 300 bytes.
// A command naming n channels is answered with at most
// n*MaxAckBytesPerChannel + 1 KiB (its id and the fixed fields).
const MaxAckBytesPerChannel = 2048

// MaxQuotedChannel is the longest channel name a rejection quotes; longer
// names, all invalid, are cut (textcut.Clip).
const MaxQuotedChannel = 256

// AppendSubscriptionAck appends
// {"type":"subscription_ack","id":...,"subscribed":[...],"rejected":[...],
// "count":N,"positions":[...],"recovered":bool} and returns the extended
// slice. id is omitted when empty; subscribed is always present ([] when
// empty); rejected is omitted when empty; positions is omitted when nil (and
// written as [] when empty but not nil); recovered is omitted when nil.
func AppendSubscriptionAck(dst []byte, id string, subscribed []string, rejected []Rejection, count int, positions []Position, recovered *bool) []byte {
	dst = append(dst, `{"type":"subscription_ack"`...)
	dst = appendID(dst, id)
	dst = append(dst, `,"subscribed":`...)
	dst = appendStrings(dst, subscribed)
	if len(rejected) > 0 {
		dst = append(dst, `,"rejected":[`...)
		for i, r := range rejected {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"channel":`...)
			dst = AppendJSONString(dst, textcut.Clip(r.Channel, MaxQuotedChannel))
			dst = append(dst, `,"code":`...)
			dst = AppendJSONString(dst, r.Code)
			dst = append(dst, `,"message":`...)
			dst = AppendJSONString(dst, r.Message)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"count":`...)
	dst = strconv.AppendInt(dst, int64(count), 10)
	if positions != nil {
		dst = append(dst, `,"positions":[`...)
		for i, p := range positions {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"channel":`...)
			dst = AppendJSONString(dst, p.Channel)
			dst = append(dst, `,"epoch":`...)
			dst = AppendJSONString(dst, p.Epoch)
			dst = append(dst, `,"seq":`...)
			dst = strconv.AppendUint(dst, p.Seq, 10)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	if recovered != nil {
		dst = append(dst, `,"recovered":`...)
		dst = strconv.AppendBool(dst, *recovered)
	}
	return append(dst, '}')
}

// AppendUnsubscriptionAck appends
// {"type":"unsubscription_ack","id":...,"unsubscribed":[...],"count":N} and
// returns the extended slice. id is omitted when empty; unsubscribed is
// always present ([] when empty).
func AppendUnsubscriptionAck(dst []byte, id string, unsubscribed []string, count int) []byte {
	dst = append(dst, `{"type":"unsubscription_ack"`...)
	dst = appendID(dst, id)
	dst = append(dst, `,"unsubscribed":`...)
	dst = appendStrings(dst, unsubscribed)
	dst = append(dst, `,"count":`...)
	dst = strconv.AppendInt(dst, int64(count), 10)
	return append(dst, '}')
}

// AppendPong appends {"type":"pong","id":...,"ts":N} (ts in Unix
// milliseconds) and returns the extended slice; id, the heartbeat's, is
// omitted when empty.
func AppendPong(dst []byte, id string, ts int64) []byte {
	dst = append(dst, `{"type":"pong"`...)
	dst = appendID(dst, id)
	dst = append(dst, `,"ts":`...)
	dst = strconv.AppendInt(dst, ts, 10)
	return append(dst, '}')
}

// AppendError appends {"type":"error","id":...,"code":...,"message":...} and
// returns the extended slice; id is omitted when empty.
func AppendError(dst []byte, id, code, message string) []byte {
	dst = append(dst, `{"type":"error"`...)
	dst = appendID(dst, id)
	dst = append(dst, `,"code":`...)
	dst = AppendJSONString(dst, code)
	dst = append(dst, `,"message":`...)
	dst = AppendJSONString(dst, message)
	return append(dst, '}')
}

// appendID appends ,"id":"..." unless id is empty.
func appendID(dst []byte, id string) []byte {
	if id == "" {
		return dst
	}
	dst = append(dst, `,"id":`...)
	return AppendJSONString(dst, id)
}

// appendStrings appends ss as a JSON array of strings; [] when empty.
func appendStrings(dst []byte, ss []string) []byte {
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendJSONString(dst, s)
	}
	return append(dst, ']')
}

// uintLen returns the number of decimal digits of n.
func uintLen(n uint64) int {
	l := 1
	for n >= 10 {
		n /= 10
		l++
	}
	return l
}

// intLen returns the length of n in decimal, sign included.
func intLen(n int64) int {
	if n < 0 {
		return 1 + uintLen(uint64(-n)) // -MinInt64 wraps to its own magnitude as uint64
	}
	return uintLen(uint64(n))
}

// AppendReconflated appends frame, a message frame of AppendMessageFrame
// (without a conflated count), with "conflated":conflated added after its
// seq, as AppendConflatedFrame would have built it, and returns the
// extended slice. It is for a history replay, which has the frames, not
// the publications.
func AppendReconflated(dst, frame []byte, conflated uint64) []byte {
	hl := 2
	switch frame[1] & 0x7f {
	case 126:
		hl = 4
	case 127:
		hl = 10
	}
	payload := frame[hl:]
	i := bytes.Index(payload, []byte(msgTS)) // channel names hold no quote: the first is the envelope's
	var num [20]byte
	k := strconv.AppendUint(num[:0], conflated, 10)
	n := len(payload) + len(msgConfl) + len(k)
	dst = ws.AppendFrameHeader(dst, ws.OpText, n)
	dst = append(dst, payload[:i]...)
	dst = append(dst, msgConfl...)
	dst = append(dst, k...)
	return append(dst, payload[i:]...)
}
