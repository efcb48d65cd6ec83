package main

import "bytes"

// Kinds of server frames the load generator tells apart.
const (
	frameOther   = iota // pong, unsubscription_ack, unknown
	frameMessage        // a publication
	frameAck            // subscription_ack
	frameError          // error
)

// frameInfo is what the load generator reads from one server text frame.
// channel aliases the frame's bytes: use it before the handler returns.
type frameInfo struct {
	kind     int
	channel  []byte
	seq      uint64
	hasSeq   bool
	sent     int64 // the publisher's send time (data.t, Unix ns); 0 if absent
	rejected int   // subscription_ack: rejected channels
}

var (
	keyType     = []byte(`"type":"`)
	keyChannel  = []byte(`"channel":"`)
	keySeq      = []byte(`"seq":`)
	keyData     = []byte(`"data":`)
	keyT        = []byte(`"t":`)
	keyRejected = []byte(`"rejected":[`)
	typeMessage = []byte(`message"`)
	typeAck     = []byte(`subscription_ack"`)
	typeError   = []byte(`error"`)
)

var (
	fastMessage = []byte(`{"type":"message","channel":"`)
	fastSeq     = []byte(`","seq":`)
	fastTS      = []byte(`,"ts":`)
	fastData    = []byte(`,"data":{"t":`)
)

// parseFrame reads a server frame without a JSON decoder and without
// allocating. It relies on PROTOCOL.md's frames being compact JSON whose
// channel names need no escaping (they are [A-Za-z0-9_-.]); keys may come
// in any order. wsfan's own envelope, with the publisher's {"t":...},
// takes a fast path that reads it front to back.
func parseFrame(b []byte) frameInfo {
	if f, ok := parseFast(b); ok {
		return f
	}
	var f frameInfo
	i := bytes.Index(b, keyType)
	if i < 0 {
		return f
	}
	t := b[i+len(keyType):]
	switch {
	case bytes.HasPrefix(t, typeMessage):
		f.kind = frameMessage
	case bytes.HasPrefix(t, typeAck):
		f.kind = frameAck
		if j := bytes.Index(b, keyRejected); j >= 0 {
			rest := b[j+len(keyRejected):]
			if end := bytes.IndexByte(rest, ']'); end >= 0 {
				rest = rest[:end]
			}
			f.rejected = bytes.Count(rest, keyChannel)
		}
		return f
	case bytes.HasPrefix(t, typeError):
		f.kind = frameError
		return f
	default:
		return f
	}
	// The data value is the publisher's; search the envelope's keys before
	// it so that data cannot fake them.
	head, data := b, []byte(nil)
	if j := bytes.Index(b, keyData); j >= 0 {
		head, data = b[:j], b[j+len(keyData):]
	}
	if j := bytes.Index(head, keyChannel); j >= 0 {
		rest := head[j+len(keyChannel):]
		if end := bytes.IndexByte(rest, '"'); end >= 0 {
			f.channel = rest[:end]
		}
	}
	if j := bytes.Index(head, keySeq); j >= 0 {
		if v, ok := parseUint(head[j+len(keySeq):]); ok {
			f.seq, f.hasSeq = v, true
		}
	}
	if j := bytes.Index(data, keyT); j >= 0 {
		if v, ok := parseUint(data[j+len(keyT):]); ok {
			f.sent = int64(v)
		}
	}
	return f
}

// parseUint reads the decimal digits at the start of b.
func parseUint(b []byte) (uint64, bool) {
	var v uint64
	n := 0
	for n < len(b) && n < 20 && b[n] >= '0' && b[n] <= '9' {
		v = v*10 + uint64(b[n]-'0')
		n++
	}
	return v, n > 0
}

// parseFast reads {"type":"message","channel":"C","seq":N,"ts":N,"data":{"t":N...
// front to back; ok is false for anything else.
func parseFast(b []byte) (frameInfo, bool) {
	var f frameInfo
	rest, ok := bytes.CutPrefix(b, fastMessage)
	if !ok {
		return f, false
	}
	end := bytes.IndexByte(rest, '"')
	if end < 0 {
		return f, false
	}
	f.channel = rest[:end]
	if rest, ok = bytes.CutPrefix(rest[end:], fastSeq); !ok {
		return f, false
	}
	n := digits(rest)
	if n == 0 {
		return f, false
	}
	f.seq, _ = parseUint(rest[:n])
	f.hasSeq = true
	if rest, ok = bytes.CutPrefix(rest[n:], fastTS); !ok {
		return f, false
	}
	n = digits(rest)
	if rest, ok = bytes.CutPrefix(rest[n:], fastData); !ok || n == 0 {
		return f, false
	}
	t, ok := parseUint(rest)
	if !ok {
		return f, false
	}
	f.sent = int64(t)
	f.kind = frameMessage
	return f, true
}

// digits returns how many decimal digits b starts with.
func digits(b []byte) int {
	n := 0
	for n < len(b) && b[n] >= '0' && b[n] <= '9' {
		n++
	}
	return n
}
