package main

import (
	"bytes"
	"compress/flate"
	"io"
	"strings"
	"sync"
)

// deflateOffer is what browsers and Node's ws offer (RFC 7692).
const deflateOffer = "permessage-deflate; client_max_window_bits"

// offersDeflate reports whether connection idx offers permessage-deflate
// when a fraction of the connections do (-deflate): idx's per-mille rank
// below it, so that any share spreads evenly over the processes.
func offersDeflate(idx int, fraction float64) bool {
	return float64(idx%1000) < fraction*1000
}

// negotiatedDeflate reports whether a 101's Sec-WebSocket-Extensions
// accepted permessage-deflate.
func negotiatedDeflate(ext string) bool {
	return strings.HasPrefix(strings.TrimSpace(ext), "permessage-deflate")
}

// inflaters are pooled stdlib flate readers: a message at a time, no
// context kept between messages (the server answers no_context_takeover).
var inflaters sync.Pool

type inflater struct {
	r   io.ReadCloser
	src bytes.Reader
	out bytes.Buffer
}

// deflateTail ends a permessage-deflate message: the 4 bytes the sender
// left out, then an empty final block so that the reader reaches its end.
var deflateTail = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// inflate calls fn with the inflated message p; the bytes are valid
// during the call.
func inflate(p []byte, fn func([]byte)) error {
	f, _ := inflaters.Get().(*inflater)
	if f == nil {
		f = &inflater{}
	}
	defer inflaters.Put(f)
	buf := make([]byte, 0, len(p)+len(deflateTail))
	buf = append(append(buf, p...), deflateTail...)
	f.src.Reset(buf)
	if f.r == nil {
		f.r = flate.NewReader(&f.src)
	} else if err := f.r.(flate.Resetter).Reset(&f.src, nil); err != nil {
		return err
	}
	f.out.Reset()
	if _, err := f.out.ReadFrom(f.r); err != nil {
		return err
	}
	fn(f.out.Bytes())
	return nil
}
