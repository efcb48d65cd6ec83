package server

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"wsfan/config"
)

// BenchmarkPublishPath measures POST /publish to the subscriber's read,
// over real loopback HTTP and WebSocket, in local mode, through an embedded
// NATS server (core NATS cluster mode, one node) and through a JetStream
// stream on it (file store): the latency each adds (batch=1, one
// publication in flight; p50 and p99 of publish to read) and the throughput
// (batch=100, one channel: every publication of the batch on it).
func BenchmarkPublishPath(b *testing.B) {
	for _, mode := range []string{"local", "nats", "jetstream"} {
		for _, batch := range []int{1, 100} {
			b.Run(fmt.Sprintf("mode=%s/batch=%d", mode, batch), func(b *testing.B) {
				s := benchNode(b, mode)
				conn := benchSubscriber(b, s, `{"type":"subscribe","data":{"channels":["token.BTC.trade"]}}`)
				pub := `{"channel":"token.BTC.trade","data":{"price":"43250.5","size":"0.25"}}`
				body := "[" + strings.TrimSuffix(strings.Repeat(pub+",", batch), ",") + "]"
				lat := make([]time.Duration, 0, b.N)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					start := time.Now()
					if code, resp := publish(b, s, body); code != 200 {
						b.Fatalf("publish: %d %s", code, resp)
					}
					for j := 0; j < batch; j++ {
						if _, _, err := conn.ReadMessage(); err != nil {
							b.Fatal(err)
						}
					}
					lat = append(lat, time.Since(start))
				}
				b.StopTimer()
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/publication")
				reportPercentiles(b, lat)
			})
		}
	}
}

// BenchmarkRecoveryPath measures a subscribe with since that recovers 100
// publications: from the node's memory (it delivered them), and on a
// JetStream node started after them, from the stream (one direct get).
// ns/op is from the subscribe to the last recovered message read.
func BenchmarkRecoveryPath(b *testing.B) {
	for _, from := range []string{"memory", "jetstream"} {
		b.Run("from="+from, func(b *testing.B) {
			ns := runJetStreamNATS(b, -1, b.TempDir())
			url := natsURL(ns)
			fast := func(c *config.Config) { c.Limits.CommandsPerSecond, c.Limits.CommandBurst = 1e6, 1e6 }
			s := jsNode(b, url, fast)
			ack := dialFrame(b, s, `{"type":"subscribe","id":"0","data":{"channels":["token.BTC.trade"]}}`)
			publishN(b, s, jsChannel, 1, 100)
			waitFor(b, "100 deliveries", func() bool { return counter(s, "wsfan_jetstream_delivered_total") == 100 })
			if from == "jetstream" {
				s = jsNode(b, url, fast) // delivered nothing: its memory is empty
			}
			sub := fmt.Sprintf(`{"type":"subscribe","id":"1","data":{"channels":[%q],"since":{%q:{"epoch":%q,"seq":0}}}}`,
				jsChannel, jsChannel, ack.Positions[0].Epoch)
			conn := benchSubscriber(b, s, "")
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_ = conn.WriteMessage(websocket.TextMessage, []byte(sub))
				var f frame
				if _, p, err := conn.ReadMessage(); err != nil || json.Unmarshal(p, &f) != nil || f.Recovered == nil || !*f.Recovered {
					b.Fatalf("ack %s (%v); want recovered", p, err)
				}
				for j := 0; j < 100; j++ {
					if _, _, err := conn.ReadMessage(); err != nil {
						b.Fatal(err)
					}
				}
				_ = conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"unsubscribe","data":{"channels":["token.BTC.trade"]}}`))
				if _, _, err := conn.ReadMessage(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchSubscriber dials s and, unless subscribe is empty, sends it and
// reads its ack (and, in core cluster mode, waits until NATS has the
// interest).
func benchSubscriber(b *testing.B, s *Server, subscribe string) *websocket.Conn {
	b.Helper()
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	conn, _, err := d.Dial("ws://"+s.PublicAddr()+"/ws", nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = conn.Close() })
	if subscribe == "" {
		return conn
	}
	_ = conn.WriteMessage(websocket.TextMessage, []byte(subscribe))
	if _, _, err := conn.ReadMessage(); err != nil {
		b.Fatal(err)
	}
	if s.bus != nil {
		if err := s.bus.Flush(5 * time.Second); err != nil {
			b.Fatal(err)
		}
	}
	return conn
}

// dialFrame sends cmd on a new connection to s and returns the reply.
func dialFrame(b *testing.B, s *Server, cmd string) frame {
	b.Helper()
	conn := benchSubscriber(b, s, "")
	_ = conn.WriteMessage(websocket.TextMessage, []byte(cmd))
	var f frame
	if _, p, err := conn.ReadMessage(); err != nil || json.Unmarshal(p, &f) != nil {
		b.Fatalf("reply to %s: %s (%v)", cmd, p, err)
	}
	return f
}

// reportPercentiles reports the p50 and p99 of lat, in µs.
func reportPercentiles(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	at := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) }
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}

func benchNode(b *testing.B, mode string) *Server {
	b.Helper()
	switch mode {
	case "local":
		return startServer(b, nil)
	case "jetstream":
		return jsNode(b, natsURL(runJetStreamNATS(b, -1, b.TempDir())))
	}
	url := natsURL(runNATS(b, -1))
	return startServer(b, func(c *config.Config) { c.NATS.URLs = []string{url} })
}
