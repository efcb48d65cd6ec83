package main

import (
	"os"
	"strings"
	"testing"
)

func TestParseStatTicks(t *testing.T) {
	// Fields 14 and 15 (utime 1234, stime 567); the name holds spaces and
	// a parenthesis.
	wsfan := "4242 (wsfan (x) y) S 1 4242 4242 0 -1 4194560 1000 0 0 0 1234 567 0 0 20 0 9 0 100 1000000 2000 18446744073709551615"
	for line, want := range map[string]int64{wsfan: 1801, "1 (init) S 1 1 1 0 -1 0 0 0 0 0 7 3 0 0": 10} {
		ticks, err := parseStatTicks([]byte(line))
		if err != nil {
			t.Errorf("parseStatTicks(%q): %v", line, err)
		}
		eq(t, ticks, want, "parseStatTicks(%q)", line)
	}
	for _, bad := range []string{"garbage", "1 (x) S 1 2"} {
		if ticks, err := parseStatTicks([]byte(bad)); err == nil || ticks != 0 {
			t.Errorf("parseStatTicks(%q) = %d, %v; want 0 and an error", bad, ticks, err)
		}
	}
}

func TestParseStatusAndIO(t *testing.T) {
	status := "Name:\twsfan\nVmPeak:\t  100 kB\nVmRSS:\t   30104 kB\nThreads:\t7\n"
	if got := parseStatusKB([]byte(status), "VmRSS:"); got != 30104 {
		t.Fatalf("VmRSS = %d; want 30104", got)
	}
	if got := parseStatusKB([]byte(status), "VmSwap:"); got != -1 {
		t.Fatalf("absent key = %d; want -1", got)
	}
	io := "rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 96786\nread_bytes: 0\n"
	if got := parseIOField([]byte(io), "syscw:"); got != 96786 {
		t.Fatalf("syscw = %d; want 96786", got)
	}
}

func TestReadProcSelf(t *testing.T) {
	s, err := readProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.RSSKB <= 0 || s.CPUSeconds < 0 {
		t.Fatalf("self: %+v", s)
	}
}

func TestParseProm(t *testing.T) {
	in := `# HELP x
wsfan_connections 10000
wsfan_connections_rejected_total{reason="max_connections"} 3
wsfan_fanout_duration_seconds_bucket{vmrange="1.000e-03...1.136e-03"} 5
go_memstats_heap_inuse_bytes 2.1e+07
malformed
wsfan_bytes_out_total 123 1700000000000
`
	m, err := parseProm(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]float64{
		mConnections: 10000,
		`wsfan_connections_rejected_total{reason="max_connections"}`:            3,
		`wsfan_fanout_duration_seconds_bucket{vmrange="1.000e-03...1.136e-03"}`: 5,
		mHeapInuse: 2.1e7,
		mBytesOut:  123, // a timestamp after the value is ignored
		"absent":   -1,
	} {
		eq(t, m.get(name), want, "get(%s)", name)
	}
	if _, _, ok := m.writeCounter(); ok {
		t.Fatal("found a write counter that is not there")
	}
	m["wsfan_writes_total"] = 5
	if name, v, ok := m.writeCounter(); !ok || name != "wsfan_writes_total" || v != 5 {
		t.Fatalf("writeCounter = %q %v %v", name, v, ok)
	}
}

func TestSlope(t *testing.T) {
	// RSS = 10 MB + 2 KB per connection.
	xs := []float64{5000, 10000, 19000}
	ys := []float64{10240 + 2*5000, 10240 + 2*10000, 10240 + 2*19000}
	if got := slope(xs, ys); got < 1.999 || got > 2.001 {
		t.Fatalf("slope = %v; want 2", got)
	}
	if got := slope([]float64{1}, []float64{1}); got != 0 {
		t.Fatalf("slope of one point = %v; want 0", got)
	}
}
