package cluster

import (
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"wsfan/codec"
)

// benchData is the size of each publication's data, in bytes.
const benchData = 100

// BenchmarkPublishThroughNATS measures the whole cluster path on loopback:
// Bridge.Publish on one bridge (which waits for the server's confirmation),
// the embedded NATS server, and Deliver on a second bridge, for 100-byte
// data on one channel. ns/op is per publication; msgs/s is publications
// delivered per second; p50/p99-µs is the time from just before Publish to
// Deliver. The timer stops only when every publication has been delivered.
func BenchmarkPublishThroughNATS(b *testing.B) {
	for _, bc := range []struct{ batch, publishers int }{{1, 1}, {1, 8}, {100, 1}, {100, 8}} {
		b.Run(fmt.Sprintf("batch=%d/publishers=%d", bc.batch, bc.publishers), func(b *testing.B) {
			benchPublish(b, bc.batch, bc.publishers)
		})
	}
}

func benchPublish(b *testing.B, batch, publishers int) {
	ns := runServer(b, -1)
	const channel = "token.BTC.trade"
	n := b.N
	lat := make([]time.Duration, 0, n) // appended by the channel's one worker
	done := make(chan struct{})
	deliver := func(_ string, data []byte) {
		lat = append(lat, stampAge(data))
		if len(lat) == n {
			close(done)
		}
	}
	sub := connect(b, testConfig(ns, InterestPerChannel), deliver)
	sub.Interest(channel, +1)
	flush(b, sub)
	pubs := make([]*Bridge, publishers)
	for i := range pubs {
		pubs[i] = connect(b, testConfig(ns, InterestPerChannel), nil)
	}

	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for p, br := range pubs {
		share := n / publishers
		if p < n%publishers {
			share++
		}
		wg.Go(func() {
			bufs := make([]codec.Publication, batch)
			for i := range bufs {
				bufs[i] = codec.Publication{Channel: channel, Data: benchPayload()}
			}
			for share > 0 {
				k := min(batch, share)
				now := time.Now().UnixNano()
				for i := range k {
					// nc.Publish copies the data: the buffers are reused.
					writeStamp(bufs[i].Data, now)
				}
				if err := br.Publish(bufs[:k]); err != nil {
					panic(err)
				}
				share -= k
			}
		})
	}
	wg.Wait()
	<-done
	elapsed := time.Since(start)
	b.StopTimer()

	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(float64(n)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}

// benchPayload returns benchData bytes of JSON: {"t":<19 digits>,"pad":"x..."}.
func benchPayload() []byte {
	d := []byte(`{"t":0000000000000000000,"pad":"`)
	for len(d) < benchData-2 {
		d = append(d, 'x')
	}
	return append(d, `"}`...)
}

// stampAge is how long ago the stamp in d (writeStamp) was written.
func stampAge(d []byte) time.Duration {
	sent, err := strconv.ParseInt(string(d[5:24]), 10, 64)
	if err != nil {
		panic(fmt.Sprintf("bad data %q", d))
	}
	return time.Duration(time.Now().UnixNano() - sent)
}

// writeStamp writes ns as 19 decimal digits at d[5:24].
func writeStamp(d []byte, ns int64) {
	for i := 23; i >= 5; i-- {
		d[i] = byte('0' + ns%10)
		ns /= 10
	}
}
