package hub

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"

	"wsfan/codec"
	"wsfan/ws/wstest"
)

// orderBook returns a depth update of levels price levels a side in the
// format of a large exchange's public feed (prices and sizes as 8-decimal
// strings, sizes with 4 significant decimals): 50 levels make about 3.3 KB.
func orderBook(levels int, seed int) []byte {
	r := rand.New(rand.NewPCG(uint64(seed), 1))
	side := func(b *strings.Builder, from, step float64) {
		for i := range levels {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(b, `["%.8f","%.8f"]`, from+float64(i)*step, math.Round(r.Float64()*3e4)/1e4)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, `{"e":"depthUpdate","E":%d,"s":"BTCUSDT","U":%d,"u":%d,"b":[`, 1764633600123+seed, 157+seed, 160+seed)
	side(&b, 43250, -0.5)
	b.WriteString(`],"a":[`)
	side(&b, 43251, 0.5)
	b.WriteString(`]}`)
	return []byte(b.String())
}

// frameSink keeps the last frame written to a detached connection and
// counts the frames (a write may carry several).
type frameSink struct {
	net.Conn
	mu   sync.Mutex
	cond sync.Cond
	last []byte
	n    int
}

func newSink() *frameSink {
	s := &frameSink{}
	s.cond.L = &s.mu
	return s
}

func (s *frameSink) Write(b []byte) (int, error) {
	s.mu.Lock()
	for rest := b; len(rest) > 0; {
		_, after, err := wstest.SplitFrame(rest)
		if err != nil {
			panic(err)
		}
		s.last = append(s.last[:0], rest[:len(rest)-len(after)]...)
		s.n++
		rest = after
	}
	s.mu.Unlock()
	s.cond.Broadcast()
	return len(b), nil
}

// wait waits up to 5 s for the n-th frame.
func (s *frameSink) wait(t *testing.T, n int) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	waitCond(t, &s.cond, func() bool { return s.n >= n },
		func() string { return fmt.Sprintf("%d frames after 5 s; want %d", s.n, n) })
}

// inflate reads a deflated frame's payload as a client would.
func inflate(t *testing.T, frame []byte) []byte {
	t.Helper()
	f, _ := wstest.MustSplit(t, frame)
	if f.RSV != 0x40 {
		t.Fatalf("RSV bits %#x; want RSV1", f.RSV)
	}
	out, err := io.ReadAll(flate.NewReader(io.MultiReader(bytes.NewReader(f.Payload), strings.NewReader("\x00\x00\xff\xff\x01\x00\x00\xff\xff"))))
	if err != nil {
		t.Fatalf("inflate: %v", err)
	}
	return out
}

// TestCompressOncePerPublication publishes an order book to n deflate
// subscribers and one plain one, for n from 1 to 10,000: the publication is
// compressed exactly once, deflate subscribers get the deflated frame and
// the plain one the plain frame, and both carry the same message.
func TestCompressOncePerPublication(t *testing.T) {
	h, env := newTestHub(t, nil)
	data := orderBook(50, 1)
	for _, n := range []int{1, 10, 100, 1000, 10000} {
		channel := fmt.Sprintf("token.N%d.book", n)
		sinks := make([]*frameSink, n)
		for i := range sinks {
			sinks[i] = newSink()
			c := env.NewDetached(sinks[i], true)
			h.Subscribe(c, "s", []string{channel}, nil, nil)
		}
		plainSink := newSink()
		h.Subscribe(env.NewDetached(plainSink, false), "s", []string{channel}, nil, nil)
		before, beforeZ, beforeP := h.m.compressions.Get(), h.m.deflated.Get(), h.m.plain.Get()
		h.Publish([]codec.Publication{{Channel: channel, Data: data}})
		if got := h.m.compressions.Get() - before; got != 1 {
			t.Fatalf("%d deflate subscribers: %d compressions; want 1", n, got)
		}
		if z, p := h.m.deflated.Get()-beforeZ, h.m.plain.Get()-beforeP; z != uint64(n) || p != 1 {
			t.Fatalf("%d deflate subscribers: deliveries deflate %d, plain %d", n, z, p)
		}
		waitWritten(t, append(sinks, plainSink), 2) // the ack, then the message
		pf, _ := wstest.MustSplit(t, plainSink.last)
		if pf.RSV != 0 || !bytes.Contains(pf.Payload, data) {
			t.Fatalf("the plain subscriber got RSV %#x, %.60q", pf.RSV, pf.Payload)
		}
		for _, i := range []int{0, n - 1} {
			if got := inflate(t, sinks[i].last); !bytes.Equal(got, pf.Payload) {
				t.Fatalf("deflate subscriber %d inflates %.60q; want the plain message", i, got)
			}
		}
		if z := len(sinks[0].last); z*3 > len(plainSink.last) {
			t.Fatalf("a %d-byte frame deflated to %d bytes: less than 3x", len(plainSink.last), z)
		}
	}
}

// TestCompressionSkipped: no compression for a publication nobody with
// deflate receives, for one below compression_min_bytes (deflate
// subscribers get it plain), and none at all with compression off.
func TestCompressionSkipped(t *testing.T) {
	h, env := newTestHub(t, nil)
	z, p := newSink(), newSink()
	h.Subscribe(env.NewDetached(p, false), "s", []string{"token.plain.book"}, nil, nil)
	h.Subscribe(env.NewDetached(z, true), "s", []string{"token.small.trade"}, nil, nil)
	h.Publish([]codec.Publication{{Channel: "token.plain.book", Data: orderBook(50, 2)}})
	h.Publish([]codec.Publication{{Channel: "token.small.trade", Data: []byte(`{"p":"1.5"}`)}})
	if n := h.m.compressions.Get(); n != 0 {
		t.Fatalf("%d compressions; want 0", n)
	}
	waitWritten(t, []*frameSink{z, p}, 2)
	if f, _ := wstest.MustSplit(t, z.last); f.RSV != 0 {
		t.Fatalf("a short message went to a deflate client with RSV %#x", f.RSV)
	}
}

// waitWritten waits until each sink saw n writes.
func waitWritten(t *testing.T, sinks []*frameSink, n int) {
	t.Helper()
	for _, s := range sinks {
		s.wait(t, n)
	}
}
