package server

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats-server/v2/server"

	"wsfan/config"
)

// BenchmarkPublishPath measures POST /publish to the subscriber's read,
// over real loopback HTTP and WebSocket, in local mode and through an
// embedded NATS server (cluster mode, one node): the latency NATS adds
// (batch=1, one publication in flight) and the throughput (batch=100).
func BenchmarkPublishPath(b *testing.B) {
	for _, mode := range []string{"local", "nats"} {
		for _, batch := range []int{1, 100} {
			b.Run(fmt.Sprintf("mode=%s/batch=%d", mode, batch), func(b *testing.B) {
				s := benchNode(b, mode)
				d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
				conn, _, err := d.Dial("ws://"+s.PublicAddr()+"/ws", nil)
				if err != nil {
					b.Fatal(err)
				}
				defer conn.Close()
				_ = conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"subscribe","data":{"channels":["token.BTC.trade"]}}`))
				if _, _, err := conn.ReadMessage(); err != nil {
					b.Fatal(err)
				}
				if s.bus != nil {
					if err := s.bus.Flush(5 * time.Second); err != nil {
						b.Fatal(err)
					}
				}
				pub := `{"channel":"token.BTC.trade","data":{"price":"43250.5","size":"0.25"}}`
				body := "[" + strings.TrimSuffix(strings.Repeat(pub+",", batch), ",") + "]"
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if code, resp := publish(b, s, body); code != 200 {
						b.Fatalf("publish: %d %s", code, resp)
					}
					for j := 0; j < batch; j++ {
						if _, _, err := conn.ReadMessage(); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/publication")
			})
		}
	}
}

func benchNode(b *testing.B, mode string) *Server {
	b.Helper()
	if mode == "local" {
		return startServer(b, nil)
	}
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		b.Fatal(err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		b.Fatal("NATS not ready")
	}
	b.Cleanup(ns.Shutdown)
	url := fmt.Sprintf("nats://127.0.0.1:%d", ns.Addr().(*net.TCPAddr).Port)
	return startServer(b, func(c *config.Config) { c.NATS.URLs = []string{url} })
}
