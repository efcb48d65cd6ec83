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
	kind      int
	channel   []byte
	seq       uint64
	hasSeq    bool
	conflated uint64 // "conflated": publications this message replaced (PROTOCOL.md "Conflation")
	sent      int64  // the publisher's send time (data.t, Unix ns); 0 if absent
	value     int64  // the publisher's value number (data.n); -1 if absent
	rejected  int    // subscription_ack: rejected channels
}

var (
	keyType      = []byte(`"type":"`)
	keyChannel   = []byte(`"channel":"`)
	keySeq       = []byte(`"seq":`)
	keyConflated = []byte(`"conflated":`)
	keyData      = []byte(`"data":`)
	keyT         = []byte(`"t":`)
	keyN         = []byte(`"n":`)
	keyRejected  = []byte(`"rejected":[`)
	typeMessage  = []byte(`message"`)
	typeAck      = []byte(`subscription_ack"`)
	typeError    = []byte(`error"`)
)

var (
	fastMessage   = []byte(`{"type":"message","channel":"`)
	fastSeq       = []byte(`","seq":`)
	fastConflated = []byte(`,"conflated":`)
	fastTS        = []byte(`,"ts":`)
	fastData      = []byte(`,"data":{"t":`)
	fastN         = []byte(`,"n":`)
)

// parseFrame reads a server frame without a JSON decoder and without
// allocating. It relies on PROTOCOL.md's frames being compact JSON whose
// channel names need no escaping (they are [A-Za-z0-9_-.]); keys may come
// in any order. wsfan's own envelope, with the publisher's {"t":...} or
// {"t":...,"n":...} and "conflated" before or after data, takes a fast
// path that reads it front to back.
func parseFrame(b []byte) frameInfo {
	if f, ok := parseFast(b); ok {
		return f
	}
	f := frameInfo{value: -1}
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
	// The data value is the publisher's: the envelope's keys are searched
	// before and after it, so that data cannot fake them.
	head, data, tail := b, []byte(nil), []byte(nil)
	if j := bytes.Index(b, keyData); j >= 0 {
		head, data = b[:j], b[j+len(keyData):]
		if n := skipValue(data); n > 0 {
			data, tail = data[:n], data[n:]
		}
	}
	if j := bytes.Index(head, keyChannel); j >= 0 {
		rest := head[j+len(keyChannel):]
		if end := bytes.IndexByte(rest, '"'); end >= 0 {
			f.channel = rest[:end]
		}
	} else if j := bytes.Index(tail, keyChannel); j >= 0 {
		rest := tail[j+len(keyChannel):]
		if end := bytes.IndexByte(rest, '"'); end >= 0 {
			f.channel = rest[:end]
		}
	}
	if v, ok := uintAfter(head, tail, keySeq); ok {
		f.seq, f.hasSeq = v, true
	}
	if v, ok := uintAfter(head, tail, keyConflated); ok {
		f.conflated = v
	}
	if j := bytes.Index(data, keyT); j >= 0 {
		if v, ok := parseUint(data[j+len(keyT):]); ok {
			f.sent = int64(v)
		}
	}
	if j := bytes.Index(data, keyN); j >= 0 {
		if v, ok := parseUint(data[j+len(keyN):]); ok {
			f.value = int64(v)
		}
	}
	return f
}

// uintAfter reads the number after key in head, else in tail.
func uintAfter(head, tail, key []byte) (uint64, bool) {
	for _, b := range [][]byte{head, tail} {
		if j := bytes.Index(b, key); j >= 0 {
			return parseUint(b[j+len(key):])
		}
	}
	return 0, false
}

// skipValue returns the length of the JSON value at the start of b
// (objects, arrays, strings with escapes, literals), or 0 when b does not
// hold a whole one. It does not validate.
func skipValue(b []byte) int {
	depth, inString := 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case inString:
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
				if depth == 0 {
					return i + 1
				}
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
			if depth == 0 {
				return i + 1
			}
			if depth < 0 {
				return i // the envelope's end: a literal value ended here
			}
		case depth == 0 && (c == ',' || c == ' '):
			return i // the end of a literal (number, true, null)
		}
	}
	return 0
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

// parseFast reads, front to back,
//
//	{"type":"message","channel":"C","seq":N[,"conflated":K],"ts":N[,"conflated":K],"data":{"t":N[,"n":N]}[,"conflated":K]}
//
// ok is false for anything else (the slow path then reads it).
func parseFast(b []byte) (frameInfo, bool) {
	f := frameInfo{value: -1}
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
	if f.seq, rest, ok = cutUint(rest); !ok {
		return f, false
	}
	f.hasSeq = true
	rest, f.conflated, ok = cutConflated(rest, f.conflated)
	if !ok {
		return f, false
	}
	if rest, ok = bytes.CutPrefix(rest, fastTS); !ok {
		return f, false
	}
	if _, rest, ok = cutUint(rest); !ok {
		return f, false
	}
	if rest, f.conflated, ok = cutConflated(rest, f.conflated); !ok {
		return f, false
	}
	if rest, ok = bytes.CutPrefix(rest, fastData); !ok {
		return f, false
	}
	t, rest, ok := cutUint(rest)
	if !ok {
		return f, false
	}
	f.sent = int64(t)
	if len(rest) > 0 && rest[0] == ',' {
		r, ok := bytes.CutPrefix(rest, fastN)
		if !ok {
			return f, false
		}
		n, r, ok := cutUint(r)
		if !ok {
			return f, false
		}
		f.value, rest = int64(n), r
	}
	if len(rest) == 0 || rest[0] != '}' {
		return f, false
	}
	rest = rest[1:]
	if rest, f.conflated, ok = cutConflated(rest, f.conflated); !ok {
		return f, false
	}
	if len(rest) != 1 || rest[0] != '}' {
		return f, false
	}
	f.kind = frameMessage
	return f, true
}

// cutUint reads the decimal number at the start of b (at most 20
// digits) and returns the rest.
func cutUint(b []byte) (uint64, []byte, bool) {
	var v uint64
	n := 0
	for n < len(b) && n < 20 && b[n] >= '0' && b[n] <= '9' {
		v = v*10 + uint64(b[n]-'0')
		n++
	}
	return v, b[n:], n > 0
}

// cutConflated reads an optional ,"conflated":K at the start of b; ok is
// false when it starts but is malformed.
func cutConflated(b []byte, cur uint64) ([]byte, uint64, bool) {
	if len(b) < len(fastConflated) || b[2] != 'c' { // the cheap test first: most frames have none
		return b, cur, true
	}
	r, found := bytes.CutPrefix(b, fastConflated)
	if !found {
		return b, cur, true
	}
	k, r, ok := cutUint(r)
	return r, k, ok
}

// digits returns how many decimal digits b starts with.
func digits(b []byte) int {
	n := 0
	for n < len(b) && b[n] >= '0' && b[n] <= '9' {
		n++
	}
	return n
}
