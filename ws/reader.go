package ws

import (
	"encoding/binary"
	"errors"
	"unicode/utf8"
	"wsfan/lib/bytespool"
)

// ErrTooBig is what an Inflater returns when a message inflates past its
// limit.
var ErrTooBig = errors.New("ws: message too big")

// Inflater decompresses one permessage-deflate message (RFC 7692): it
// appends the inflated src to dst and returns the result, or ErrTooBig once
// more than limit bytes would come out (without producing them), or another
// error for a stream that is not valid deflate data.
type Inflater interface {
	Inflate(dst, src []byte, limit int) ([]byte, error)
}

// Handler receives what a Reader parses from one connection, in order.
// Payloads are valid only during the call: a handler copies what it keeps.
type Handler interface {
	// Message is one whole data message: text (valid UTF-8) or binary,
	// reassembled from its fragments and inflated if it was compressed.
	Message(op byte, payload []byte)
	// Ping and Pong are control frames, which may arrive between the
	// fragments of a message.
	Ping(payload []byte)
	Pong(payload []byte)
	// Close is the peer's close frame, already checked: code is
	// CloseNoStatus when it carried none, reason is valid UTF-8. Nothing is
	// parsed after it.
	Close(code int, reason string)
	// Fail is a frame that breaks a rule: the handler answers with a close
	// frame of code and reason. The Reader serves nothing more; when the
	// framing is intact it still hands over the peer's pongs and close.
	Fail(code int, reason string)
}

// Reader states.
const (
	reading = iota // frames are served
	closing        // the server closes: data frames are skipped, a close answer awaited
	done           // nothing more is parsed
)

// Reader parses the frames one client sends (RFC 6455, section 5, with the
// permessage-deflate rules of RFC 7692 when enabled) and enforces every rule
// a server must: frames masked, no reserved bits or opcodes, control frames
// final and at most 125 bytes, continuations only inside a fragmented
// message, text and close reasons in UTF-8, close codes that may appear on
// the wire, and messages at most Limit bytes (1009).
//
// Feed is called with the bytes as they arrive, split anywhere; complete
// frames are handled in place (unmasked in the caller's buffer) and only an
// incomplete frame is copied to be completed by the next Feed. A Reader is
// not safe for concurrent use. The zero Reader is not usable: call Init.
type Reader struct {
	inflater Inflater // nil unless permessage-deflate was negotiated
	buf      *[]byte  // an incomplete frame carried to the next Feed; nil when none
	msg      *[]byte  // the fragments of the message being assembled; nil when none
	skip     uint64   // closing: payload bytes of a data frame still to skip
	limit    int32    // a Reader is one per connection: kept small
	msgOp    byte     // OpText or OpBinary while a fragmented message is open; 0 otherwise
	rsv1     bool     // the open message is compressed
	state    uint8
}

// Init prepares r for a new connection: messages of at most limit bytes
// (below 2 GiB), and compressed messages when inflater is not nil
// (permessage-deflate negotiated).
func (r *Reader) Init(limit int, inflater Inflater) {
	*r = Reader{limit: int32(limit), inflater: inflater}
}

// Closing tells r that the server has sent its close frame: from now on
// data frames are skipped unread (however large), pings are ignored, and
// only the peer's close frame (or pong) is still handed to the Handler.
// It must not be called from within a Handler method.
func (r *Reader) Closing() {
	if r.state == reading {
		r.state = closing
		r.dropMessage()
	}
}

// Done reports whether r parses nothing more: the peer's close frame came,
// or a frame broke the framing itself.
func (r *Reader) Done() bool { return r.state == done }

// Feed parses data, calling h for each complete message and control frame
// and for a frame that breaks a rule (Fail, with a short English reason
// safe to send), in order. Feed may modify data (unmasking in place).
func (r *Reader) Feed(data []byte, h Handler) {
	if r.state == done {
		return
	}
	if r.skip > 0 {
		n := min(r.skip, uint64(len(data)))
		r.skip -= n
		data = data[n:]
	}
	if len(data) == 0 {
		return
	}
	if r.buf == nil {
		n := r.parse(data, h)
		if n < len(data) && r.state != done {
			r.buf = bytespool.Get()
			*r.buf = append(*r.buf, data[n:]...)
		}
		return
	}
	*r.buf = append(*r.buf, data...)
	b := *r.buf
	n := r.parse(b, h)
	if rest := copy(b, b[n:]); rest > 0 && r.state != done {
		*r.buf = b[:rest]
	} else {
		bytespool.Put(r.buf)
		r.buf = nil
	}
}

// Release drops r's buffers; the connection is gone. It must not be
// called from within a Handler method.
func (r *Reader) Release() {
	r.state = done
	r.dropMessage()
	bytespool.Put(r.buf)
	r.buf = nil
}

// dropMessage forgets the message being assembled.
func (r *Reader) dropMessage() {
	bytespool.Put(r.msg)
	r.msg, r.msgOp, r.rsv1 = nil, 0, false
}

// fail stops serving and tells h the close to answer with. When the
// framing is intact (the peer may still answer the close) r keeps looking
// for its close frame, else it parses nothing more.
func (r *Reader) fail(h Handler, framingIntact bool, code int, reason string) {
	r.dropMessage()
	r.state = closing
	if !framingIntact {
		r.state = done
	}
	h.Fail(code, reason)
}

// parse handles the complete frames at the start of b and returns how many
// bytes they took.
func (r *Reader) parse(b []byte, h Handler) int {
	off := 0
	for r.state != done {
		f := b[off:]
		if len(f) < 2 {
			return off
		}
		b0, b1 := f[0], f[1]
		hl, n := 2, uint64(b1&0x7F)
		switch n {
		case 126:
			if hl = 4; len(f) >= hl {
				n = uint64(binary.BigEndian.Uint16(f[2:4]))
			}
		case 127:
			if hl = 10; len(f) >= hl {
				if n = binary.BigEndian.Uint64(f[2:10]); n>>63 != 0 {
					if r.state == reading {
						r.fail(h, false, CloseProtocolError, "invalid frame length")
					}
					r.state = done
					return len(b)
				}
			}
		}
		if len(f) < hl {
			return off
		}
		// The header's rules and the size are checked before the masking
		// key arrives: a frame refused by its length is refused at once.
		op, fin, masked := b0&0x0F, b0&finBit != 0, b1&0x80 != 0
		if r.check(b0, op, fin, masked, n, h); r.state == done {
			return len(b)
		}
		if masked {
			hl += 4
		}
		if op < OpClose && r.state == reading && n > uint64(int(r.limit)-r.msgLen()) {
			r.fail(h, true, CloseMessageTooBig, "message too big")
		}
		if avail := uint64(len(f)); avail < uint64(hl)+n {
			if r.state == closing && op < OpClose {
				r.skip = uint64(hl) + n - avail // skipped, never buffered
				return len(b)
			}
			return off
		}
		payload := f[hl : hl+int(n)]
		off += hl + int(n)
		if masked {
			unmask(payload, f[hl-4:hl])
		}
		switch {
		case op >= OpClose:
			r.control(op, payload, h)
		case r.state == reading:
			r.data(b0, op, fin, payload, h)
		}
	}
	return len(b)
}

// check applies the header rules of RFC 6455 section 5.2-5.5 and RFC 7692
// section 6. While closing, a broken header only stops the parsing.
func (r *Reader) check(b0, op byte, fin, masked bool, n uint64, h Handler) {
	var why string
	switch {
	case !masked:
		why = "frame not masked"
	case b0&0x30 != 0:
		why = "reserved bits set"
	case b0&rsv1Bit != 0 && r.inflater == nil:
		why = "RSV1 set without permessage-deflate"
	case b0&rsv1Bit != 0 && op != OpText && op != OpBinary:
		why = "RSV1 set on a control or continuation frame"
	case op >= OpClose && op > OpPong:
		why = "reserved opcode"
	case op >= OpClose && !fin:
		why = "fragmented control frame"
	case op >= OpClose && n > MaxControlPayload:
		why = "control frame over 125 bytes"
	case op > OpBinary && op < OpClose:
		why = "reserved opcode"
	case op == OpContinuation && r.msgOp == 0 && r.state == reading:
		why = "continuation frame without a message to continue"
	case op != OpContinuation && op < OpClose && r.msgOp != 0 && r.state == reading:
		why = "new message inside a fragmented message"
	default:
		return
	}
	if r.state == reading {
		r.fail(h, false, CloseProtocolError, why)
	}
	r.state = done
}

// control handles a ping, pong or close frame.
func (r *Reader) control(op byte, p []byte, h Handler) {
	switch op {
	case OpPing:
		if r.state == reading {
			h.Ping(p)
		}
	case OpPong:
		h.Pong(p)
	case OpClose:
		code, reason := CloseNoStatus, ""
		switch {
		case len(p) == 1:
			r.failClose(h, CloseProtocolError, "close frame with a 1-byte payload")
			return
		case len(p) >= 2:
			code = int(binary.BigEndian.Uint16(p))
			if !ValidCloseCode(code) {
				r.failClose(h, CloseProtocolError, "invalid close code")
				return
			}
			if !utf8.Valid(p[2:]) {
				r.failClose(h, CloseInvalidPayload, "close reason not UTF-8")
				return
			}
			reason = string(p[2:])
		}
		r.state = done
		r.dropMessage()
		h.Close(code, reason)
	}
}

// failClose refuses a malformed close frame: while reading, with Fail;
// while closing, the peer's answer is taken as a close without a code.
// Either way nothing more is parsed.
func (r *Reader) failClose(h Handler, code int, reason string) {
	if r.state == reading {
		r.fail(h, false, code, reason)
	} else {
		h.Close(CloseNoStatus, "")
	}
	r.state = done
}

// data adds a data frame to the message and hands the message over when
// it is complete.
func (r *Reader) data(b0, op byte, fin bool, p []byte, h Handler) {
	if op != OpContinuation {
		r.msgOp, r.rsv1 = op, b0&rsv1Bit != 0
	}
	msg := p
	if !fin || r.msg != nil {
		if r.msg == nil {
			r.msg = bytespool.Get()
		}
		*r.msg = append(*r.msg, p...)
		if !fin {
			return
		}
		msg = *r.msg
	}
	var inflated *[]byte
	defer func() { bytespool.Put(inflated) }()
	if r.rsv1 {
		inflated = bytespool.Get()
		var err error
		if *inflated, err = r.inflater.Inflate(*inflated, msg, int(r.limit)); err != nil {
			if errors.Is(err, ErrTooBig) {
				r.fail(h, true, CloseMessageTooBig, "message too big")
			} else {
				r.fail(h, true, CloseInvalidPayload, "invalid compressed data")
			}
			return
		}
		msg = *inflated
	}
	op = r.msgOp
	assembled := r.msg
	r.msg, r.msgOp, r.rsv1 = nil, 0, false
	defer bytespool.Put(assembled)
	if op == OpText && !utf8.Valid(msg) {
		r.fail(h, true, CloseInvalidPayload, "text message not UTF-8")
		return
	}
	h.Message(op, msg)
}

// msgLen is the length of the fragments assembled so far.
func (r *Reader) msgLen() int {
	if r.msg == nil {
		return 0
	}
	return len(*r.msg)
}

// ValidCloseCode reports whether code may be sent in a close frame (RFC
// 6455, section 7.4, and the IANA registry): 1000-1003, 1007-1014 and
// 3000-4999. 1004, 1005, 1006 and 1015 are reserved and never on the wire.
func ValidCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	default:
		return code >= 3000 && code <= 4999
	}
}

// unmask XORs p with the 4-byte masking key, in place.
func unmask(p []byte, key []byte) {
	k := binary.LittleEndian.Uint32(key)
	k64 := uint64(k) | uint64(k)<<32
	for len(p) >= 8 {
		binary.LittleEndian.PutUint64(p, binary.LittleEndian.Uint64(p)^k64)
		p = p[8:]
	}
	for i := range p {
		p[i] ^= key[i&3]
	}
}
