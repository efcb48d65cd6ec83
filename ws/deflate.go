package ws

import (
	"bytes"
	"errors"
	"io"
	"sync"

	"github.com/klauspost/compress/flate"
)

// syncTail is what a sync flush ends with and what permessage-deflate
// leaves out of each message (RFC 7692, section 7.2.1); endTail is it and
// an empty final block, so that an inflater reaches a clean end.
var (
	syncTail = []byte{0x00, 0x00, 0xff, 0xff}
	endTail  = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}
)

// Deflater compresses messages for permessage-deflate without context
// takeover: each message alone. Its compressors are pooled, not owned by
// connections, so a server holds as many as it compresses messages at once.
// Safe for concurrent use.
type Deflater struct {
	level int
	pool  sync.Pool // of *deflateState
}

type deflateState struct {
	w   *flate.Writer
	out appendWriter
}

// appendWriter is an io.Writer appending to a slice.
type appendWriter struct{ b []byte }

func (a *appendWriter) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}

// NewDeflater returns a Deflater compressing at level (1, fastest, to 9).
func NewDeflater(level int) *Deflater {
	return &Deflater{level: level}
}

// Deflate appends the permessage-deflate payload of p (compressed, the
// sync flush's tail removed) to dst and returns the extended slice.
func (d *Deflater) Deflate(dst, p []byte) []byte {
	st, _ := d.pool.Get().(*deflateState)
	if st == nil {
		st = &deflateState{}
		st.w, _ = flate.NewWriter(&st.out, d.level) // level checked by config
	}
	st.out.b = dst
	st.w.Reset(&st.out)
	_, _ = st.w.Write(p)
	_ = st.w.Flush()
	out := st.out.b
	st.out.b = nil
	d.pool.Put(st)
	return bytes.TrimSuffix(out, syncTail)
}

// Inflaters inflates permessage-deflate messages with pooled inflaters: no
// connection owns one. The zero value is ready; safe for concurrent use.
// It implements Inflater.
type Inflaters struct {
	pool sync.Pool // of *inflateState
}

type inflateState struct {
	r  io.ReadCloser // a flate reader; also a flate.Resetter
	in tailReader
}

// tailReader reads src, then endTail. It is an io.ByteReader, so that the
// flate reader reads it directly (it would wrap anything else in a bufio
// buffer of its own).
type tailReader struct {
	src  []byte
	tail []byte
}

func (t *tailReader) next() *[]byte {
	if len(t.src) > 0 {
		return &t.src
	}
	return &t.tail
}

func (t *tailReader) Read(p []byte) (int, error) {
	b := t.next()
	if len(*b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, *b)
	*b = (*b)[n:]
	return n, nil
}

func (t *tailReader) ReadByte() (byte, error) {
	b := t.next()
	if len(*b) == 0 {
		return 0, io.EOF
	}
	c := (*b)[0]
	*b = (*b)[1:]
	return c, nil
}

// inflateChunk is how much an Inflate produces at a time: past its limit it
// stops within one chunk, so a deflate bomb costs at most limit+chunk.
const inflateChunk = 4096

// Inflate appends the inflated message src to dst, or returns ErrTooBig as
// soon as more than limit bytes come out, or another error when src is not
// a deflate stream.
func (f *Inflaters) Inflate(dst, src []byte, limit int) ([]byte, error) {
	st, _ := f.pool.Get().(*inflateState)
	if st == nil {
		st = &inflateState{}
	}
	st.in = tailReader{src: src, tail: endTail}
	if st.r == nil {
		st.r = flate.NewReader(&st.in)
	} else {
		_ = st.r.(flate.Resetter).Reset(&st.in, nil)
	}
	defer func() {
		st.in = tailReader{} // no reference to src in the pool
		f.pool.Put(st)
	}()
	start := len(dst)
	for {
		if len(dst)-start > limit {
			return dst[:start], ErrTooBig
		}
		dst = growBy(dst, inflateChunk)
		n, err := st.r.Read(dst[len(dst):cap(dst)][:min(inflateChunk, limit+1-(len(dst)-start))])
		dst = dst[:len(dst)+n]
		switch {
		case errors.Is(err, io.EOF):
			if len(dst)-start > limit {
				return dst[:start], ErrTooBig
			}
			return dst, nil
		case err != nil:
			return dst[:start], err
		}
	}
}

// growBy makes room for n more bytes in b.
func growBy(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	return append(b, make([]byte, n)...)[:len(b)]
}
