package hub

import (
	"fmt"
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"wsfan/codec"
)

// discardConn is a socket that takes every write at once, as a socket with
// room would. It isolates the hub's own fan-out cost from the kernel's (a
// loopback write costs 11-15 µs here; bench/ measures that).
type discardConn struct {
	net.Conn
	bytes  *atomic.Int64
	writes *atomic.Int64 // nil: not counted
}

func (d *discardConn) Write(b []byte) (int, error) {
	d.bytes.Add(int64(len(b)))
	if d.writes != nil {
		d.writes.Add(1)
	}
	return len(b), nil
}

// BenchmarkFanoutDeflate is BenchmarkFanout with a 3.3 KB order book, the
// subscribers all plain or all deflate: the compression is paid once per
// publication, the copy and the write per delivery (bytes/delivery is what
// goes on the wire).
func BenchmarkFanoutDeflate(b *testing.B) {
	data := orderBook(50, 7)
	for _, subs := range []int{1000, 10000} {
		for _, deflate := range []bool{false, true} {
			b.Run(fmt.Sprintf("subs=%d/deflate=%v", subs, deflate), func(b *testing.B) {
				h, env := newTestHub(b, nil)
				var written atomic.Int64
				var writes atomic.Int64
				for i := 0; i < subs; i++ {
					c := env.NewDetached(&discardConn{bytes: &written, writes: &writes}, deflate)
					ch := h.idx.Acquire("token.BTC.book")
					c.Subs().Add(ch.Add(c))
					ch.Unlock()
				}
				pubs := []codec.Publication{{Channel: "token.BTC.book", Data: data}}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					want := writes.Load() + int64(subs)
					h.Publish(pubs)
					for writes.Load() < want {
						runtime.Gosched()
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*subs), "ns/delivery")
				b.ReportMetric(float64(written.Load())/float64(b.N*subs), "bytes/delivery")
			})
		}
	}
}

// BenchmarkFanout publishes one publication to subs subscribers per
// iteration and waits until the writers handed every frame to the
// (discarding) sockets, so the time is the whole cost: encode, lookup,
// append to each buffer, writer scheduling and one Write per connection.
func BenchmarkFanout(b *testing.B) {
	for _, bc := range []struct {
		subs    int
		history bool
	}{{1000, false}, {1000, true}, {10000, false}, {10000, true}} {
		subs := bc.subs
		b.Run(fmt.Sprintf("subs=%d/history=%v", subs, bc.history), func(b *testing.B) {
			var hist []string
			if bc.history {
				hist = []string{"token.*.trade"}
			}
			h, env := newTestHub(b, hist)
			var written atomic.Int64
			for i := 0; i < subs; i++ {
				c := env.NewDetached(&discardConn{bytes: &written}, false)
				ch := h.idx.Acquire("token.BTC.trade")
				c.Subs().Add(ch.Add(c))
				ch.Unlock()
			}
			data := []byte(`{"price":"43250.5","size":"0.25","side":"buy"}`)
			pubs := []codec.Publication{{Channel: "token.BTC.trade", Data: data}}
			var scratch []byte
			want := written.Load()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				h.Publish(pubs)
				// The frame's length depends on seq's digits; ts has 13.
				scratch = codec.AppendMessageFrame(scratch[:0], "token.BTC.trade", uint64(i+1), time.Now().UnixMilli(), data)
				want += int64(subs) * int64(len(scratch))
				for written.Load() < want {
					runtime.Gosched()
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*subs), "ns/delivery")
		})
	}
}
