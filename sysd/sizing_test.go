//go:build linux

package sysd

// This file holds the measurement behind the sizing table in
// docs/OPERATIONS.md, not a regression test: it runs only when
// WSFAN_SIZING=1. It starts the real server binary as a separate process
// (so the two sides' file descriptors count against different limits),
// opens N idle WebSocket connections from this process, each subscribed to
// one channel, and reads the server's VmRSS and metrics before and after.
// Then, with every connection on one shared channel and ping_interval=1s,
// it measures the server's CPU per heartbeat ping and per delivery.
//
//	go build -o /tmp/wsfan-ops .
//	flock /tmp/wsfan-bench.lock env WSFAN_SIZING=1 WSFAN_BIN=/tmp/wsfan-ops \
//	    go test ./sysd -run TestSizing -v -count=1 -timeout 10m
//
// WSFAN_BIN: the server binary (default: built into a temporary directory).
// WSFAN_SIZING_CONNS: the connection counts (default 2000,5000,9000,19000;
// keep each under the process fd limit, 20,000 on the machine it was
// written on). WSFAN_SIZING_CPU_CONNS: connections of the CPU phase
// (default 3000,9000; 0 skips it).
//
// The client is a minimal hand-written WebSocket client
// (sizing_client_test.go): it keeps client library buffers out of the
// measurement and needs no module beyond the standard library.

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"wsfan/lib/proctest"
)

const sizingKey = "sizing-test-publish-key-0123456789"

func TestSizing(t *testing.T) {
	if os.Getenv("WSFAN_SIZING") != "1" {
		t.Skip("a measurement, not a test: set WSFAN_SIZING=1 (see sizing_test.go)")
	}
	bin := os.Getenv("WSFAN_BIN")
	if bin == "" {
		bin = proctest.Build(t)
	}
	sizes := intsEnv(t, "WSFAN_SIZING_CONNS", "2000,5000,9000,19000")
	cpuConns := intsEnv(t, "WSFAN_SIZING_CPU_CONNS", "3000,9000")

	t.Logf("%-7s %-8s %9s %9s %10s %10s %10s %6s %6s %10s",
		"conns", "channels", "rss0_MiB", "rss_MiB", "rss_B/conn", "heap_B/conn", "stack_B/c", "fds", "gorout", "slab_B/pair")
	for _, n := range sizes {
		r := measureIdle(t, bin, n)
		t.Logf("%-7.0f %-8s %9.1f %9.1f %10.0f %10.0f %10.0f %6.0f %6.0f %10.0f",
			r.conns, "distinct", mib(r.rss0), mib(r.rss), (r.rss-r.rss0)/r.conns,
			(r.heap-r.heap0)/r.conns, (r.stack-r.stack0)/r.conns,
			r.fds, r.goroutines, (r.slab-r.slab0)/r.conns)
	}
	for _, n := range cpuConns {
		if n > 0 {
			measureCPU(t, bin, n)
		}
	}
}

// sizingDropNote explains connections the server closes about 10 s after
// they connected.
const sizingDropNote = "nbio v1.6.12 sets the handshake read deadline " +
	"(nbhttp.Config.KeepaliveTime, loop's handshakeTimeout 10s) after registering the " +
	"connection (nbhttp/engine.go:729), racing the upgrader's clearing of it, so a few " +
	"upgraded connections are closed without a close frame 10 s after they connected"

type idleResult struct {
	conns, rss0, rss, heap0, heap, stack0, stack, slab0, slab, fds, goroutines float64
}

// measureIdle starts a server, opens n connections each subscribed to its
// own channel, and reads memory before and after.
func measureIdle(t *testing.T, bin string, n int) idleResult {
	srv := startServer(t, bin, "25s", "60s")
	defer srv.Stop()
	var r idleResult
	time.Sleep(time.Second)
	r.rss0 = rss(t, srv)
	m := srv.Metrics(t)
	r.heap0, r.stack0 = m["go_memstats_heap_inuse_bytes"], m["go_memstats_stack_inuse_bytes"]
	r.slab0 = slabBytes(t)

	dialStart := time.Now()
	conns := dialAll(t, srv.Public, n, func(i int) string { return fmt.Sprintf("sizing.c%d", i) })
	defer closeAll(conns)
	t.Logf("%d connections dialled and subscribed in %v", n, time.Since(dialStart).Round(time.Millisecond))
	time.Sleep(3 * time.Second) // let the task pool and buffers settle
	r.rss = rss(t, srv)
	r.slab = slabBytes(t)
	m = srv.Metrics(t)
	r.heap, r.stack = m["go_memstats_heap_inuse_bytes"], m["go_memstats_stack_inuse_bytes"]
	r.fds, r.goroutines = openFDs(t, srv), m["go_goroutines"]
	// The server may have dropped a few connections by now: see
	// sizingDropNote. Per-connection figures divide by what it holds.
	r.conns = m["wsfan_connections"]
	if r.conns < 0.99*float64(n) || m["wsfan_subscriptions"] != r.conns {
		t.Fatalf("wsfan_connections = %v, wsfan_subscriptions = %v; want about %d each",
			r.conns, m["wsfan_subscriptions"], n)
	}
	if int(r.conns) != n {
		t.Logf("%d of %d connections closed by the server: %s", n-int(r.conns), n, sizingDropNote)
	}
	return r
}

// measureCPU measures the server's CPU per heartbeat ping and per delivery
// with n connections on one shared channel that answer pings.
func measureCPU(t *testing.T, bin string, n int) {
	srv := startServer(t, bin, "1s", "1h")
	defer srv.Stop()
	conns := dialAll(t, srv.Public, n, func(int) string { return "sizing.shared" })
	defer closeAll(conns)
	var received atomic.Int64
	for _, c := range conns {
		go c.readLoop(&received)
	}
	time.Sleep(2 * time.Second)

	const window = 10 * time.Second
	cpu0 := cpuSeconds(t, srv)
	time.Sleep(window)
	hbCPU := cpuSeconds(t, srv) - cpu0
	pings := float64(n) * window.Seconds() // ping_interval = 1s
	t.Logf("heartbeat: %d conns, ping_interval 1s: server CPU %.3f s in %v = %.2f µs/ping (ping + pong)",
		n, hbCPU, window, hbCPU/pings*1e6)

	const rate = 10 // publications per second
	body := `{"channel":"sizing.shared","data":{"price":"43250.5","qty":"0.125","side":"buy","ts":1764236400123}}`
	m0 := srv.Metrics(t)
	recv0 := received.Load()
	cpu0 = cpuSeconds(t, srv)
	start := time.Now()
	tick := time.NewTicker(time.Second / rate)
	for time.Since(start) < window {
		<-tick.C
		if code := srv.Publish(t, sizingKey, body); code != 200 {
			t.Fatalf("publish: HTTP %d", code)
		}
	}
	tick.Stop()
	time.Sleep(time.Second) // let the writers finish
	pubCPU := cpuSeconds(t, srv) - cpu0 - hbCPU*(time.Since(start).Seconds()/window.Seconds())
	m1 := srv.Metrics(t)
	deliveries := m1["wsfan_deliveries_total"] - m0["wsfan_deliveries_total"]
	t.Logf("fan-out: %.0f publications/s to %d subscribers: %.0f deliveries (%d received) in %.1f s, "+
		"server CPU %.3f s above heartbeats = %.2f µs/delivery; slow-consumer closes %v",
		float64(rate), n, deliveries, received.Load()-recv0, time.Since(start).Seconds(),
		pubCPU, pubCPU/deliveries*1e6, m1["wsfan_slow_consumer_disconnects_total"])
	t.Logf("after the fan-out: %.0f connections on one channel, RSS %.1f MiB, heap in use %.1f MiB, "+
		"next GC at %.1f MiB, %.0f goroutines",
		m1["wsfan_connections"], mib(rss(t, srv)), mib(m1["go_memstats_heap_inuse_bytes"]),
		mib(m1["go_memstats_next_gc_bytes"]), m1["go_goroutines"])
}

// startServer starts bin with the sizing publish key and these heartbeat
// settings.
func startServer(t *testing.T, bin, ping, idle string) *proctest.Proc {
	return proctest.Start(t, bin, fmt.Sprintf("publish_keys = [%q]\nping_interval = %q\nidle_timeout = %q\n",
		sizingKey, ping, idle), nil)
}

// rss returns the server's VmRSS in bytes.
func rss(t *testing.T, s *proctest.Proc) float64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.Cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb * 1024
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// openFDs counts the server's open file descriptors. (The server's
// /metrics has no process_open_fds: the metrics package writes it only from
// metrics.WriteFDMetrics.)
func openFDs(t *testing.T, s *proctest.Proc) float64 {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", s.Cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	return float64(len(ents))
}

// cpuSeconds returns the server's user+system CPU time.
func cpuSeconds(t *testing.T, s *proctest.Proc) float64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.Cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name, which is in parentheses: utime and
	// stime are fields 14 and 15 of the line, 12 and 13 after ")".
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ is 100 on Linux
}

// slabBytes returns the kernel's slab memory (socket, file and epoll
// structures live there): machine-wide, so other processes add noise, and
// it holds both ends of each loopback connection (the "slab_B/pair" column).
func slabBytes(t *testing.T) float64 {
	t.Helper()
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Slab:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb * 1024
		}
	}
	return 0
}

func intsEnv(t *testing.T, key, def string) []int {
	t.Helper()
	v := os.Getenv(key)
	if v == "" {
		v = def
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			t.Fatalf("%s=%q: %v", key, v, err)
		}
		out = append(out, n)
	}
	return out
}

func mib(b float64) float64 { return b / (1 << 20) }
