package server

import (
	"io"

	"github.com/VictoriaMetrics/metrics"

	"wsfan/cluster"
)

// serverMetrics are the server's own counters (hub and conn register
// theirs in the same set); no label carries a channel or user.
type serverMetrics struct {
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
	idleCloses      *metrics.Counter
	commands        *metrics.Counter
	publishRejected *metrics.Counter
	reloadsOK       *metrics.Counter
	reloadsFailed   *metrics.Counter
}

func newServerMetrics(s *Server) *serverMetrics {
	set := s.set
	m := &serverMetrics{
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
		idleCloses:      set.NewCounter(`wsfan_idle_disconnects_total`),
		commands:        set.NewCounter(`wsfan_client_commands_total`),
		publishRejected: set.NewCounter(`wsfan_publish_rejected_total`),
		reloadsOK:       set.NewCounter(`wsfan_config_reloads_total{result="ok"}`),
		reloadsFailed:   set.NewCounter(`wsfan_config_reloads_total{result="error"}`),
	}
	set.NewGauge(`wsfan_nats_connected`, func() float64 {
		if s.bus != nil && s.bus.Connected() || s.stream != nil && s.stream.Connected() {
			return 1
		}
		return 0
	})
	set.NewGauge(`wsfan_jetstream_catching_up`, func() float64 {
		if s.stream != nil && s.stream.CatchingUp() {
			return 1
		}
		return 0
	})
	set.NewGauge(`wsfan_jetstream_pending`, func() float64 {
		if s.stream == nil {
			return 0
		}
		return float64(s.stream.Pending())
	})
	set.NewGauge(`wsfan_nats_subscriptions`, func() float64 {
		if s.bus == nil {
			return 0
		}
		return float64(s.bus.Subscriptions())
	})
	// The bridge keeps its own cumulative counts: written as counters.
	set.RegisterMetricsWriter(func(w io.Writer) {
		var in, out, dropped, lost, gaps uint64 // 0 outside cluster mode
		if bus := s.bus; bus != nil {
			in, out = bus.Stats()
			dropped, lost, gaps = bus.Dropped(), bus.Lost(), bus.Gaps()
		}
		metrics.WriteCounterUint64(w, `wsfan_nats_messages_in_total`, in)
		metrics.WriteCounterUint64(w, `wsfan_nats_messages_out_total`, out)
		metrics.WriteCounterUint64(w, `wsfan_nats_dropped_total`, dropped)
		metrics.WriteCounterUint64(w, `wsfan_nats_lost_total`, lost)
		metrics.WriteCounterUint64(w, `wsfan_nats_gaps_total`, gaps)
		var js cluster.StreamStats // zero outside JetStream mode
		if st := s.stream; st != nil {
			js = st.Stats()
		}
		metrics.WriteCounterUint64(w, `wsfan_jetstream_delivered_total`, js.In)
		metrics.WriteCounterUint64(w, `wsfan_jetstream_published_total`, js.Out)
		metrics.WriteCounterUint64(w, `wsfan_jetstream_dropped_total`, js.Dropped)
		metrics.WriteCounterUint64(w, `wsfan_jetstream_skipped_total`, js.Skipped)
		metrics.WriteCounterUint64(w, `wsfan_jetstream_conflicts_total`, js.Conflicts)
		metrics.WriteCounterUint64(w, `wsfan_jetstream_consumer_resets_total`, js.Resets)
	})
	set.NewGauge(`wsfan_connections`, func() float64 { return float64(s.conns.Load()) })
	set.NewGauge(`wsfan_draining`, func() float64 {
		if s.draining.Load() {
			return 1
		}
		return 0
	})
	return m
}

// writeMetrics writes the server's metrics and the process metrics (CPU,
// RSS, goroutines, GC, open and max fds) in Prometheus text format.
func (s *Server) writeMetrics(w io.Writer) {
	s.set.WritePrometheus(w)
	metrics.WriteProcessMetrics(w)
	metrics.WriteFDMetrics(w)
}
