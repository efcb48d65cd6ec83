package ws

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
)

// inflateStd inflates a permessage-deflate payload with the standard
// library, as a client would: the payload plus the 4 bytes the sender
// removed.
func inflateStd(t *testing.T, p []byte) []byte {
	t.Helper()
	r := flate.NewReader(io.MultiReader(bytes.NewReader(p), strings.NewReader("\x00\x00\xff\xff")))
	out, err := io.ReadAll(r)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("inflate: %v", err)
	}
	return out
}

// deflateStd compresses p as a permessage-deflate sender would: a sync
// flush, its 4-byte tail removed.
func deflateStd(t testing.TB, p []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestSpeed)
	_, _ = w.Write(p)
	_ = w.Flush()
	out := b.Bytes()
	if !bytes.HasSuffix(out, []byte{0, 0, 0xff, 0xff}) {
		t.Fatalf("no sync tail")
	}
	return out[:len(out)-4]
}

var book = []byte(`{"bids":[["43250.5","0.25"],["43250.0","1.10"],["43249.5","0.75"],["43249.0","2.00"]],"asks":[["43251.0","0.30"],["43251.5","0.90"],["43252.0","1.25"],["43252.5","0.05"]]}`)

func TestDeflateRoundTrip(t *testing.T) {
	d := NewDeflater(1)
	var inf Inflaters
	for _, p := range [][]byte{{}, []byte("a"), book, bytes.Repeat(book, 100)} {
		z := d.Deflate(nil, p)
		if got := inflateStd(t, z); !bytes.Equal(got, p) {
			t.Fatalf("the standard inflater reads %d bytes; want %d", len(got), len(p))
		}
		got, err := inf.Inflate([]byte("prefix"), z, len(p))
		if err != nil || string(got) != "prefix"+string(p) {
			t.Fatalf("Inflate: %v, %d bytes", err, len(got))
		}
	}
	if z := d.Deflate(nil, bytes.Repeat(book, 10)); len(z)*3 > 10*len(book) {
		t.Fatalf("%d bytes deflate to %d: less than 3x", 10*len(book), len(z))
	}
}

// TestInflateBounds: past limit the inflater stops with ErrTooBig, having
// produced at most a chunk more than the limit; a stream that is not deflate
// data is an error, not a panic.
func TestInflateBounds(t *testing.T) {
	var inf Inflaters
	bomb := deflateStd(t, make([]byte, 10<<20)) // 10 MiB of zeros in ~10 KB
	out, err := inf.Inflate(nil, bomb, 4096)
	if !errors.Is(err, ErrTooBig) || cap(out) > 64<<10 {
		t.Fatalf("bomb: err %v, %d bytes held", err, cap(out))
	}
	z := deflateStd(t, book)
	if _, err := inf.Inflate(nil, z, len(book)-1); !errors.Is(err, ErrTooBig) {
		t.Fatalf("one byte past the limit: %v", err)
	}
	for _, bad := range [][]byte{{0xff, 0xff, 0xff}, {0x07}, z[:len(z)/2]} {
		if _, err := inf.Inflate(nil, bad, 1<<20); err == nil {
			// A cut stream may still decode to a prefix; it must not
			// decode to the whole message.
			if got, _ := inf.Inflate(nil, bad, 1<<20); bytes.Equal(got, book) {
				t.Fatalf("%x inflates to the whole message", bad)
			}
		}
	}
}

// TestDeflateConcurrent: the pooled deflater and inflaters are safe for
// concurrent use and keep no state between messages.
func TestDeflateConcurrent(t *testing.T) {
	d := NewDeflater(1)
	var inf Inflaters
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			p := bytes.Repeat([]byte{byte('a' + i)}, 1000+i)
			for range 200 {
				z := d.Deflate(nil, p)
				got, err := inf.Inflate(nil, z, len(p))
				if err != nil || !bytes.Equal(got, p) {
					t.Errorf("round trip %d: %v", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkDeflateBook(b *testing.B) {
	p := bytes.Repeat(book, 18) // ~3 KB
	for _, level := range []int{1, 6} {
		b.Run(map[int]string{1: "level=1", 6: "level=6"}[level], func(b *testing.B) {
			d := NewDeflater(level)
			var dst []byte
			b.SetBytes(int64(len(p)))
			b.ReportAllocs()
			for b.Loop() {
				dst = d.Deflate(dst[:0], p)
			}
			b.ReportMetric(float64(len(p))/float64(len(dst)), "ratio")
		})
	}
}

func BenchmarkInflate(b *testing.B) {
	p := bytes.Repeat(book, 18)
	z := NewDeflater(1).Deflate(nil, p)
	var inf Inflaters
	var dst []byte
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = inf.Inflate(dst[:0], z, 1<<20)
	}
}
