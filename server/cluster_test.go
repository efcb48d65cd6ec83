package server

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"wsfan/config"
)

// runNATS starts an embedded NATS server on 127.0.0.1 (port -1: any free
// one), shut down when the test ends.
func runNATS(t testing.TB, port int) *server.Server {
	t.Helper()
	ns, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true, NoSystemAccount: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS not ready")
	}
	t.Cleanup(ns.Shutdown)
	return ns
}

func clusterNode(t *testing.T, natsURL string) *Server {
	t.Helper()
	return startServer(t, func(c *config.Config) { clusterConfig(c, natsURL) })
}

// clusterConfig puts c in cluster mode on the NATS server at natsURL, with
// quick reconnects and timeouts.
func clusterConfig(c *config.Config, natsURL string) {
	c.NATS.URLs = []string{natsURL}
	c.NATS.SubjectPrefix = "odin."
	c.NATS.ReconnectWait = 50 * time.Millisecond
	c.NATS.PublishTimeout = 500 * time.Millisecond
}

// settle waits until the node's NATS interest changes reached the server.
func settle(t *testing.T, s *Server) {
	t.Helper()
	if err := s.bus.Flush(5 * time.Second); err != nil {
		t.Fatalf("bus flush: %v", err)
	}
}

func TestClusterTwoNodes(t *testing.T) {
	ns := runNATS(t, -1)
	url := fmt.Sprintf("nats://127.0.0.1:%d", ns.Addr().(*net.TCPAddr).Port)
	a, b := clusterNode(t, url), clusterNode(t, url)

	base := ns.NumSubscriptions()
	c := dial(t, b)
	c.subscribe("1", "token.BTC.trade")
	settle(t, b)
	if got := ns.NumSubscriptions(); got != base+1 {
		t.Fatalf("NATS subscriptions %d; want %d (per-channel interest)", got, base+1)
	}

	// Published on node A, delivered on node B, in order, once.
	for i := 1; i <= 20; i++ {
		mustPublish(t, a, fmt.Sprintf(`{"channel":"token.BTC.trade","data":{"i":%d}}`, i))
	}
	// And by a plain NATS publisher.
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if err := nc.Publish("odin.token.BTC.trade", []byte(`{"i":21}`)); err != nil {
		t.Fatal(err)
	}
	_ = nc.Flush()
	for i := 1; i <= 21; i++ {
		m := c.expect("message")
		if m.Seq != uint64(i) || string(m.Data) != fmt.Sprintf(`{"i":%d}`, i) {
			t.Fatalf("message %d: %s", i, m.raw)
		}
	}

	// Interest follows local clients: a second client adds no NATS
	// subscription; when both leave, it goes.
	c2 := dial(t, b)
	c2.subscribe("1", "token.BTC.trade")
	settle(t, b)
	if got := ns.NumSubscriptions(); got != base+1 {
		t.Fatalf("NATS subscriptions %d with two local subscribers; want %d", got, base+1)
	}
	_ = c.conn.Close()
	_ = c2.conn.Close()
	waitFor(t, "both clients to be gone", func() bool { return b.conns.Load() == 0 })
	settle(t, b)
	if got := ns.NumSubscriptions(); got != base {
		t.Fatalf("NATS subscriptions %d after the clients left; want %d", got, base)
	}
}

func TestClusterNATSOutage(t *testing.T) {
	ns := runNATS(t, -1)
	port := ns.Addr().(*net.TCPAddr).Port
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	a, b := clusterNode(t, url), clusterNode(t, url)
	c := dial(t, b)
	c.subscribe("1", "token.ETH.trade")
	settle(t, b)
	mustPublish(t, a, `{"channel":"token.ETH.trade","data":1}`)
	if m := c.expect("message"); m.Seq != 1 {
		t.Fatalf("before the outage: %s", m.raw)
	}

	ns.Shutdown()
	waitFor(t, "node A to see NATS down", func() bool { return !a.bus.Connected() })
	if code, body := publish(t, a, `{"channel":"token.ETH.trade","data":2}`); code != 503 {
		t.Fatalf("publish during the outage: %d %s; want 503 UNAVAILABLE", code, body)
	}
	// The internal health says why; the public one stays up.
	if code, _ := httpGet(t, "http://"+a.AdminAddr()+"/healthz"); code != 503 {
		t.Fatalf("internal /healthz during the outage: %d", code)
	}
	if code, _ := httpGet(t, "http://"+a.PublicAddr()+"/healthz"); code != 200 {
		t.Fatalf("public /healthz during the outage: %d", code)
	}

	runNATS(t, port) // back on the same port
	waitFor(t, "both nodes to reconnect", func() bool { return a.bus.Connected() && b.bus.Connected() })
	settle(t, b)
	waitFor(t, "publishing to work again", func() bool {
		code, _ := publish(t, a, `{"channel":"token.ETH.trade","data":3}`)
		return code == 200
	})
	m := c.expect("message")
	if string(m.Data) != "3" || m.Seq != 3 {
		t.Fatalf("after the outage: %s; want data 3 with seq 3 (a gap for the outage)", m.raw)
	}
}
