package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// promSample is a scrape of the admin /metrics: series name (with its
// labels, as written) to value.
type promSample map[string]float64

// parseProm reads Prometheus text format. Comments and malformed lines
// are skipped.
func parseProm(r io.Reader) (promSample, error) {
	m := promSample{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		// The value follows the last space outside the labels.
		end := bytes.LastIndexByte(line, '}')
		sp := bytes.IndexByte(line[max(end, 0):], ' ')
		if sp < 0 {
			continue
		}
		sp += max(end, 0)
		name := string(line[:sp])
		fields := strings.Fields(string(line[sp+1:]))
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			continue
		}
		m[name] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cannot read metrics: %w", err)
	}
	return m, nil
}

// get returns the series' value, or -1 when the server does not export it.
func (m promSample) get(name string) float64 {
	if v, ok := m[name]; ok {
		return v
	}
	return -1
}

// scrapeMetrics fetches and parses admin/metrics.
func scrapeMetrics(ctx context.Context, admin string) (promSample, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(admin, "/")+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot scrape metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("cannot scrape metrics: HTTP %d", resp.StatusCode)
	}
	return parseProm(resp.Body)
}

// Server metrics the run reads (DESIGN.md, "Metrics").
const (
	mConnections   = "wsfan_connections"
	mSubscriptions = "wsfan_subscriptions"
	mChannels      = "wsfan_channels"
	mDeliveries    = "wsfan_deliveries_total"
	mPublications  = "wsfan_publications_total"
	mBytesOut      = "wsfan_bytes_out_total"
	mSlowConsumers = "wsfan_slow_consumer_disconnects_total"
	mAccepted      = "wsfan_connections_accepted_total"
	mHeapInuse     = "go_memstats_heap_inuse_bytes"
)

// writeCounterNames are write counters the server may export; the first
// present is used. Otherwise writes come from /proc/<pid>/io syscw.
var writeCounterNames = []string{"wsfan_writes_total", "wsfan_write_syscalls_total", "wsfan_socket_writes_total"}

// writeCounter returns the server's own write counter, if it has one.
func (m promSample) writeCounter() (string, float64, bool) {
	for _, n := range writeCounterNames {
		if v, ok := m[n]; ok {
			return n, v, true
		}
	}
	return "", 0, false
}
