package hub

import (
	"net"
	"testing"
	"time"

	"wsfan/codec"
	"wsfan/config"
)

// signalConn tells when a detached connection's socket got a write.
type signalConn struct {
	net.Conn
	wrote chan struct{}
}

func (s *signalConn) Write(b []byte) (int, error) {
	s.wrote <- struct{}{}
	return len(b), nil
}

// BenchmarkLeadingEdge is the latency of a publication, from Publish to
// the subscriber's socket write, on a conflated channel after a quiet
// interval (the leading edge: delivered at once) beside the same channel
// not conflated. Each iteration waits out the interval (1 ms) first, in
// both cases, outside the timer.
func BenchmarkLeadingEdge(b *testing.B) {
	for _, conflated := range []bool{false, true} {
		name := map[bool]string{false: "conflated=false", true: "conflated=true"}[conflated]
		b.Run(name, func(b *testing.B) {
			h, env := newTestHubWith(b, func(c *config.Config) {
				if conflated {
					c.Conflation.Channels = []string{"token.*.ticker"}
					c.Conflation.Interval = time.Millisecond
				}
			})
			sig := &signalConn{wrote: make(chan struct{}, 1)}
			c := env.NewDetached(sig, false)
			h.Subscribe(c, "s", []string{"token.BTC.ticker"}, nil, nil)
			<-sig.wrote // the ack
			pubs := []codec.Publication{{Channel: "token.BTC.ticker", Data: []byte(`{"bid":"43250.5","ask":"43251.0"}`)}}
			var total time.Duration
			for b.Loop() {
				b.StopTimer()
				time.Sleep(2 * time.Millisecond) // a quiet interval
				b.StartTimer()
				start := time.Now()
				h.Publish(pubs)
				<-sig.wrote
				total += time.Since(start)
			}
			b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "ns/publish-to-write")
			if conflated && h.m.conflated.Get() != 0 {
				b.Fatalf("%d publications held: not the leading edge", h.m.conflated.Get())
			}
		})
	}
}
