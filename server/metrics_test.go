package server

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"wsfan/lib/promtext"
)

// scrapeMetrics fetches /metrics, checks every line parses, and returns the
// samples by name with labels.
func scrapeMetrics(t *testing.T, s *Server) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + s.AdminAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	b, _ := io.ReadAll(resp.Body)
	out, err := promtext.Parse(string(b))
	if err != nil {
		t.Fatalf("/metrics: %v", err)
	}
	return out
}

func TestMetricsMoveWithTraffic(t *testing.T) {
	s := startServer(t, nil)
	before := scrapeMetrics(t, s)
	for _, name := range []string{"wsfan_connections", "wsfan_publications_total", "wsfan_deliveries_total",
		"wsfan_slow_consumer_disconnects_total", "process_resident_memory_bytes", "go_goroutines",
		`wsfan_connections_rejected_total{reason="max_connections"}`, `wsfan_index_lock_wait_seconds{shard="0"}`,
		`wsfan_index_lock_hold_seconds{shard="15"}`, `wsfan_index_shard_subscriptions{shard="3"}`, "wsfan_index_patterns",
		"process_open_fds"} {
		if _, ok := before[name]; !ok {
			t.Fatalf("/metrics lacks %s", name)
		}
	}
	a, b := dial(t, s), dial(t, s)
	a.subscribe("1", "m.x")
	b.subscribe("1", "m.x", "m.y")
	mustPublish(t, s, `[{"channel":"m.x","data":1},{"channel":"m.x","data":2},{"channel":"m.y","data":3}]`)
	a.expect("message")
	a.expect("message")
	for i := 0; i < 3; i++ {
		b.expect("message")
	}
	publish(t, s, `{"channel":"bad..","data":1}`)

	after := scrapeMetrics(t, s)
	f := func(name string, want float64) {
		t.Helper()
		if got := after[name] - before[name]; got != want {
			t.Fatalf("%s moved by %v; want %v", name, got, want)
		}
	}
	f("wsfan_connections", 2)
	f("wsfan_connections_accepted_total", 2)
	f("wsfan_publications_total", 3)
	f("wsfan_deliveries_total", 5)
	f("wsfan_subscriptions", 3)
	f("wsfan_channels", 2)
	f("wsfan_publish_rejected_total", 1)
	f("wsfan_client_commands_total", 2)
	if after["wsfan_socket_writes_total"] < 2 || after["wsfan_bytes_out_total"] <= before["wsfan_bytes_out_total"] {
		t.Fatalf("writes %v, bytes out %v -> %v", after["wsfan_socket_writes_total"],
			before["wsfan_bytes_out_total"], after["wsfan_bytes_out_total"])
	}
}

// TestMetricTypes: /metrics declares each series' type, and every _total
// wsfan series is a counter (the NATS bridge's counts among them), never a
// gauge. (The process_io_*_total series are the metrics library's.)
func TestMetricTypes(t *testing.T) {
	s := startServer(t, nil)
	resp, err := http.Get("http://" + s.AdminAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	types := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			types[f[2]] = f[3]
		}
	}
	for _, name := range []string{"wsfan_nats_messages_in_total", "wsfan_nats_gaps_total", "wsfan_deliveries_total"} {
		if types[name] != "counter" {
			t.Errorf("%s has type %q; want counter", name, types[name])
		}
	}
	for name, typ := range types {
		if strings.HasPrefix(name, "wsfan_") && strings.HasSuffix(name, "_total") && typ != "counter" {
			t.Errorf("%s is a %s", name, typ)
		}
	}
}
