package main

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var (
	serverOnce sync.Once
	serverPath string
	serverDir  string // removed by TestMain
	serverErr  error
)

// serverBin returns the server binary the tests spawn: WSFAN_BENCH_SERVER_BIN,
// or the server module at the repository root, built once per test run.
func serverBin(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("WSFAN_BENCH_SERVER_BIN"); bin != "" {
		return bin
	}
	serverOnce.Do(func() {
		dir, err := os.MkdirTemp("", "wsfan-bench-test-")
		if err != nil {
			serverErr = err
			return
		}
		serverDir = dir
		serverPath, serverErr = buildServer("..", dir)
		if serverErr == nil {
			serverPath, serverErr = filepath.Abs(serverPath)
		}
	})
	if serverErr != nil {
		t.Fatal(serverErr)
	}
	return serverPath
}

// TestSmoke builds the server, spawns it on free loopback ports (pings
// every second) and runs a 200-connection, 2-second scenario end to end,
// half of the connections with permessage-deflate: every publication must
// reach every subscriber, in order, and the server must be empty after.
// Run it alone with (in bench/): flock /tmp/wsfan-bench.lock go test -run TestSmoke .
// (WSFAN_BENCH_SERVER_BIN=path uses a prebuilt server instead).
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns the server and opens 200 connections")
	}
	bin := serverBin(t)
	// A 1 s ping interval: the clients answer pings while they count
	// deliveries, and the config passthrough reaches the server.
	start := time.Now()
	// Half the connections offer permessage-deflate, and every message is
	// compressed for them (compression_min_bytes = 1): they inflate what
	// the loss check reads.
	res := runFirst(t, 60*time.Second, "-scenario", "smoke", "-spawn", "-server-bin", bin, "-quiet", "-drain", "10s",
		"-ping-interval", "1s", "-deflate", "0.5", "-server-toml", "max_pending_bytes = 2097152\ncompression_min_bytes = 1")
	t.Logf("run took %v", time.Since(start))

	if len(res.Stages) != 1 || res.Stages[0].Connected != 200 || res.Stages[0].Failed != 0 {
		t.Fatalf("connections: %+v; connect failures %v", res.Stages, res.FailLog)
	}
	if res.Publish == nil || res.Publish.PubFailed != 0 || res.Publish.PubsPerSec == 0 {
		t.Fatalf("publishing: %+v, errors %v", res.Publish, res.PubErrors)
	}
	l := res.Loss
	if l == nil || l.Expected == 0 {
		t.Fatalf("nothing was expected: %+v", l)
	}
	if l.Missing != 0 || l.Gaps != 0 || l.Dups != 0 || l.Extra != 0 || l.Received != l.Expected {
		t.Fatalf("loss: %+v", *l)
	}
	if len(res.Closes) != 0 {
		t.Fatalf("the server closed connections: %v %v", res.Closes, res.CloseLog)
	}
	if lat := res.Publish.Latency; lat.Count != int64(l.Received) || lat.P50 <= 0 || lat.Max < lat.P99 {
		t.Fatalf("latency %+v for %d deliveries", lat, l.Received)
	}
	if res.End == nil || !res.End.Zero {
		t.Fatalf("after every client left: %+v", res.End)
	}
	if res.Server.PID == 0 || res.Stages[0].ServerRSSKB <= 0 || res.Publish.ServerWritesPerSec <= 0 {
		t.Fatalf("no server stats: pid %d, stage %+v, publish %+v", res.Server.PID, res.Stages[0], res.Publish)
	}
	if len(res.Series) < 2 {
		t.Fatalf("time series has %d points", len(res.Series))
	}
	// The charts render from the series.
	if err := writeReport(t.TempDir(), res); err != nil {
		t.Fatal(err)
	}
}

// TestSmokeRaw runs the smoke scenario against the raw reference server
// (this test binary, as -raw-server; see TestMain): everything delivered,
// in order, one socket write per delivery, and the gauges at zero after.
func TestSmokeRaw(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns the raw server and opens 200 connections")
	}
	res := runFirst(t, 60*time.Second, "-scenario", "smoke", "-spawn", "-target", "raw", "-quiet", "-drain", "10s")
	if len(res.Stages) != 1 || res.Stages[0].Connected != 200 || res.Stages[0].Failed != 0 {
		t.Fatalf("connections: %+v; connect failures %v", res.Stages, res.FailLog)
	}
	l := res.Loss
	if l == nil || l.Expected == 0 || l.Missing != 0 || l.Gaps != 0 || l.Dups != 0 || l.Received != l.Expected {
		t.Fatalf("loss: %+v", l)
	}
	if len(res.Closes) != 0 || res.ErrorFrames != 0 {
		t.Fatalf("closes %v, error frames %d", res.Closes, res.ErrorFrames)
	}
	// Nothing but deliveries is written while publishing: one write each.
	if p := res.Publish; p.DeliveriesPerWrite < 0.98 || p.DeliveriesPerWrite > 1.0001 || p.CPUPerDeliveryUS <= 0 {
		t.Fatalf("deliveries per write %.4f, CPU per delivery %.2f µs", p.DeliveriesPerWrite, p.CPUPerDeliveryUS)
	}
	if res.End == nil || !res.End.Zero {
		t.Fatalf("after every client left: %+v", res.End)
	}
	if res.Server.Target != targetRaw {
		t.Fatalf("server target %q", res.Server.Target)
	}
}
