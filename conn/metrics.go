package conn

import (
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// connMetrics are the connections' counters; no label names a connection.
type connMetrics struct {
	writes         *metrics.Counter
	bytesOut       *metrics.Counter
	slowConsumers  *metrics.Counter
	protocolErrors *metrics.Counter
	replaced       *metrics.Counter
	parkedOver     *metrics.Counter
	latency        *metrics.Histogram
	latencyTick    atomic.Uint32
	deflateConns   atomic.Int64 // open connections that negotiated deflate
}

func newConnMetrics(set *metrics.Set) *connMetrics {
	m := &connMetrics{
		writes:         set.NewCounter(`wsfan_socket_writes_total`),
		bytesOut:       set.NewCounter(`wsfan_bytes_out_total`),
		slowConsumers:  set.NewCounter(`wsfan_slow_consumer_disconnects_total`),
		protocolErrors: set.NewCounter(`wsfan_protocol_error_disconnects_total`),
		replaced:       set.NewCounter(`wsfan_conflation_replaced_unsent_total`),
		parkedOver:     set.NewCounter(`wsfan_held_overflow_disconnects_total`),
		latency:        set.NewHistogram(`wsfan_publish_to_write_seconds`),
	}
	set.NewGauge(`wsfan_connections_deflate`, func() float64 { return float64(m.deflateConns.Load()) })
	return m
}

// latencySampleMask: one write in 16 is timed, so the histogram's lock is
// not taken on every write.
const latencySampleMask = 15

// observeLatency records, for a sample of writes, the time from the
// acceptance of the oldest publication in the write until the write.
func (m *connMetrics) observeLatency(acceptedNano int64) {
	if m.latencyTick.Add(1)&latencySampleMask != 0 {
		return
	}
	m.latency.Update(float64(time.Now().UnixNano()-acceptedNano) / 1e9)
}
