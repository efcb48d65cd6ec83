package hub

import (
	"wsfan/codec"
	"wsfan/conn"
	"wsfan/lib/bytespool"
	"wsfan/ws"
)

// frames are the bytes of one publication, each built once: the plain
// frame, and the deflated one (RSV1 set) the first time a subscriber that
// negotiated permessage-deflate needs it. A payload shorter than
// compression_min_bytes, or one deflate would not shrink, goes plain to
// everyone (RSV1 is per message).
type frames struct {
	h        *Hub
	plain    []byte // the whole plain frame
	payload  []byte // plain's payload
	deflated []byte // the whole deflated frame; nil until built, or if not worth it
	tried    bool   // deflate ran
	bufs     [2]*[]byte
}

// encode builds the plain frame of a message (conflated: the publications
// it stands for on a conflated channel); release returns the buffers.
func (f *frames) encode(h *Hub, channel string, seq, conflated uint64, ts int64, data []byte) {
	f.h = h
	f.bufs[0] = bytespool.Get()
	*f.bufs[0] = codec.AppendConflatedFrame((*f.bufs[0])[:0], channel, seq, conflated, ts, data)
	f.plain = *f.bufs[0]
	f.payload = f.plain[headerLen(f.plain):]
}

// headerLen is the header length of an unmasked frame.
func headerLen(frame []byte) int {
	switch frame[1] & 0x7f {
	case 126:
		return 4
	case 127:
		return 10
	}
	return 2
}

// forConn returns the frame c gets, and whether it is the deflated one.
func (f *frames) forConn(c *conn.Conn) ([]byte, bool) {
	if !c.Deflate() || !f.compressible() {
		return f.plain, false
	}
	f.deflate()
	if f.deflated == nil {
		return f.plain, false
	}
	return f.deflated, true
}

// compressible reports whether deflate clients may get this publication
// compressed.
func (f *frames) compressible() bool {
	return f.h.deflater != nil && len(f.payload) >= f.h.minDeflate
}

// deflate builds the deflated frame, once: the compressed payload goes
// after room for the longest header, and its header right in front of it.
func (f *frames) deflate() {
	if f.tried {
		return
	}
	f.tried = true
	buf := bytespool.Get()
	f.bufs[1] = buf
	out := f.h.deflater.Deflate(append((*buf)[:0], make([]byte, ws.MaxHeaderLen)...), f.payload)
	*buf = out
	z := out[ws.MaxHeaderLen:]
	f.h.m.compressions.Inc()
	f.h.m.compressIn.Add(len(f.payload))
	f.h.m.compressOut.Add(len(z))
	if len(z) >= len(f.payload) {
		return // no gain: plain for everyone
	}
	var hdr [ws.MaxHeaderLen]byte
	hl := len(ws.AppendCompressedHeader(hdr[:0], ws.OpText, len(z)))
	copy(out[ws.MaxHeaderLen-hl:], hdr[:hl])
	f.deflated = out[ws.MaxHeaderLen-hl:]
}

func (f *frames) release() {
	bytespool.Put(f.bufs[0])
	bytespool.Put(f.bufs[1])
}

// deliveries counts one publication's deliveries by encoding.
type deliveries struct {
	plain, deflated int
}

func (n *deliveries) add(queued, deflated bool) {
	switch {
	case !queued:
	case deflated:
		n.deflated++
	default:
		n.plain++
	}
}
