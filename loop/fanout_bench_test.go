package loop

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"wsfan/codec"
	"wsfan/config"
)

// discardConn is a net.Conn that takes every write at once, as a socket
// with room would, and credits the client's backlog as nbio's
// OnWrittenSize does. It isolates the server's own fan-out cost from the
// kernel's (a loopback write costs 11-15 µs here; bench/ measures that).
type discardConn struct {
	net.Conn
	c     *client
	bytes *atomic.Int64
}

func (d *discardConn) Write(b []byte) (int, error) {
	d.c.written.Add(int64(len(b)))
	d.bytes.Add(int64(len(b)))
	return len(b), nil
}
func (d *discardConn) SetReadDeadline(time.Time) error { return nil }

// newBenchServer returns a server with running writers and no listeners.
func newBenchServer(b *testing.B, history bool) *Server {
	cfg := config.Default()
	if history {
		cfg.History.Channels = []string{"token.*.trade"}
	}
	s, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	for _, w := range s.writers {
		s.bg.Add(1)
		go func() {
			defer s.bg.Done()
			w.run(s.stop)
		}()
	}
	b.Cleanup(func() {
		close(s.stop)
		s.bg.Wait()
	})
	return s
}

// BenchmarkFanout publishes one publication to subs subscribers per
// iteration and waits until the writers handed every frame to the
// (discarding) sockets, so the time is the whole cost: encode, lookup,
// append to each buffer, writer scheduling and one Write per client.
func BenchmarkFanout(b *testing.B) {
	for _, bc := range []struct {
		subs    int
		history bool
	}{{1000, false}, {1000, true}, {10000, false}, {10000, true}} {
		subs := bc.subs
		b.Run(fmt.Sprintf("subs=%d/history=%v", subs, bc.history), func(b *testing.B) {
			s := newBenchServer(b, bc.history)
			var written atomic.Int64
			for i := 0; i < subs; i++ {
				id := s.nextID.Add(1)
				c := &client{srv: s, id: id}
				c.conn = &discardConn{c: c, bytes: &written}
				ch := s.idx.Acquire("token.BTC.trade")
				c.subs.add(ch.Add(c))
				ch.Unlock()
			}
			data := []byte(`{"price":"43250.5","size":"0.25","side":"buy"}`)
			pubs := []codec.Publication{{Channel: "token.BTC.trade", Data: data}}
			var scratch []byte
			want := written.Load()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s.publish(pubs)
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
