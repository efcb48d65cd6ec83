package loop

import (
	"io"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"wsfan/cluster"
)

// serverMetrics are created once per Server and kept as pointers; no label
// carries a channel or user.
type serverMetrics struct {
	set *metrics.Set

	accepted        *metrics.Counter
	rejectedLimit   *metrics.Counter
	rejectedDrain   *metrics.Counter
	rejectedUpgrade *metrics.Counter
	rejectedOrigin  *metrics.Counter
	rejectedPerIP   *metrics.Counter
	rejectedIPRate  *metrics.Counter
	rejectedRate    *metrics.Counter
	rejectedAuth    *metrics.Counter
	tokenExpired    *metrics.Counter
	rateLimited     *metrics.Counter
	rateAbuse       *metrics.Counter
	forbidden       *metrics.Counter
	publications    *metrics.Counter
	deliveries      *metrics.Counter
	slowConsumers   *metrics.Counter
	protocolErrors  *metrics.Counter
	publishPanics   *metrics.Counter
	histEvictions   *metrics.Counter
	idleCloses      *metrics.Counter
	commands        *metrics.Counter
	bytesOut        *metrics.Counter
	publishRejected *metrics.Counter
	fanoutSeconds   *metrics.Histogram
	recovered       *metrics.Counter
	notRecovered    *metrics.Counter
	reloadsOK       *metrics.Counter
	reloadsFailed   *metrics.Counter
	writes          *metrics.Counter
	latency         *metrics.Histogram
	latencyTick     atomic.Uint32
}

// latencySampleMask: one write in 16 is timed, so the histogram's lock is
// not taken on every write.
const latencySampleMask = 15

// observeLatency records, for a sample of writes, the time from the
// acceptance of the oldest publication in the write until the write.
func (m *serverMetrics) observeLatency(acceptedNano int64) {
	if m.latencyTick.Add(1)&latencySampleMask != 0 {
		return
	}
	m.latency.Update(float64(time.Now().UnixNano()-acceptedNano) / 1e9)
}

func newServerMetrics(s *Server) *serverMetrics {
	set := metrics.NewSet()
	m := &serverMetrics{
		set:             set,
		accepted:        set.NewCounter(`wsfan_connections_accepted_total`),
		rejectedLimit:   set.NewCounter(`wsfan_connections_rejected_total{reason="max_connections"}`),
		rejectedDrain:   set.NewCounter(`wsfan_connections_rejected_total{reason="draining"}`),
		rejectedUpgrade: set.NewCounter(`wsfan_connections_rejected_total{reason="bad_upgrade"}`),
		rejectedOrigin:  set.NewCounter(`wsfan_connections_rejected_total{reason="origin"}`),
		rejectedPerIP:   set.NewCounter(`wsfan_connections_rejected_total{reason="per_ip_conns"}`),
		rejectedIPRate:  set.NewCounter(`wsfan_connections_rejected_total{reason="per_ip_rate"}`),
		rejectedRate:    set.NewCounter(`wsfan_connections_rejected_total{reason="global_rate"}`),
		rejectedAuth:    set.NewCounter(`wsfan_connections_rejected_total{reason="unauthorized"}`),
		tokenExpired:    set.NewCounter(`wsfan_token_expired_disconnects_total`),
		rateLimited:     set.NewCounter(`wsfan_commands_rate_limited_total`),
		rateAbuse:       set.NewCounter(`wsfan_rate_limit_disconnects_total`),
		forbidden:       set.NewCounter(`wsfan_subscriptions_forbidden_total`),
		publications:    set.NewCounter(`wsfan_publications_total`),
		deliveries:      set.NewCounter(`wsfan_deliveries_total`),
		slowConsumers:   set.NewCounter(`wsfan_slow_consumer_disconnects_total`),
		protocolErrors:  set.NewCounter(`wsfan_protocol_error_disconnects_total`),
		publishPanics:   set.NewCounter(`wsfan_publish_panics_total`),
		histEvictions:   set.NewCounter(`wsfan_history_evictions_total`),
		idleCloses:      set.NewCounter(`wsfan_idle_disconnects_total`),
		commands:        set.NewCounter(`wsfan_client_commands_total`),
		bytesOut:        set.NewCounter(`wsfan_bytes_out_total`),
		publishRejected: set.NewCounter(`wsfan_publish_rejected_total`),
		fanoutSeconds:   set.NewHistogram(`wsfan_fanout_duration_seconds`),
		recovered:       set.NewCounter(`wsfan_history_recoveries_total{result="recovered"}`),
		notRecovered:    set.NewCounter(`wsfan_history_recoveries_total{result="not_recovered"}`),
		reloadsOK:       set.NewCounter(`wsfan_config_reloads_total{result="ok"}`),
		reloadsFailed:   set.NewCounter(`wsfan_config_reloads_total{result="error"}`),
		writes:          set.NewCounter(`wsfan_socket_writes_total`),
		latency:         set.NewHistogram(`wsfan_publish_to_write_seconds`),
	}
	set.NewGauge(`wsfan_nats_connected`, func() float64 {
		if s.bus != nil && s.bus.Connected() {
			return 1
		}
		return 0
	})
	set.NewGauge(`wsfan_nats_subscriptions`, func() float64 {
		if s.bus == nil {
			return 0
		}
		return float64(s.bus.Subscriptions())
	})
	// The bridge keeps its own cumulative counts; they are exported through
	// callbacks (so as gauges in the text format, with _total names).
	busCount := func(name string, get func(*cluster.Bridge) uint64) {
		set.NewGauge(name, func() float64 {
			if s.bus == nil {
				return 0
			}
			return float64(get(s.bus))
		})
	}
	busCount(`wsfan_nats_messages_in_total`, func(b *cluster.Bridge) uint64 { in, _ := b.Stats(); return in })
	busCount(`wsfan_nats_messages_out_total`, func(b *cluster.Bridge) uint64 { _, out := b.Stats(); return out })
	busCount(`wsfan_nats_dropped_total`, (*cluster.Bridge).Dropped)
	busCount(`wsfan_nats_lost_total`, (*cluster.Bridge).Lost)
	busCount(`wsfan_nats_gaps_total`, (*cluster.Bridge).Gaps)
	s.idx.RegisterMetrics(set) // per-shard lock wait and hold, sizes, patterns
	set.NewGauge(`wsfan_history_bytes`, func() float64 { return float64(s.hist.bytes.Load()) })
	set.NewGauge(`wsfan_channel_entries`, func() float64 { return float64(s.idx.Entries()) })
	set.NewGauge(`wsfan_connections`, func() float64 { return float64(s.conns.Load()) })
	set.NewGauge(`wsfan_subscriptions`, func() float64 { return float64(s.idx.Subscriptions()) })
	set.NewGauge(`wsfan_channels`, func() float64 { return float64(s.idx.Channels()) })
	set.NewGauge(`wsfan_draining`, func() float64 {
		if s.draining.Load() {
			return 1
		}
		return 0
	})
	return m
}

// write writes the server's metrics and the process metrics (CPU, RSS,
// goroutines, GC, open and max fds) in Prometheus text format.
func (m *serverMetrics) write(w io.Writer) {
	m.set.WritePrometheus(w)
	metrics.WriteProcessMetrics(w)
	metrics.WriteFDMetrics(w)
}
