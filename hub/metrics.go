package hub

import "github.com/VictoriaMetrics/metrics"

// hubMetrics are the publish path's counters; no label names a channel.
type hubMetrics struct {
	publications  *metrics.Counter
	deliveries    *metrics.Counter
	publishPanics *metrics.Counter
	histEvictions *metrics.Counter
	recovered     *metrics.Counter
	notRecovered  *metrics.Counter
	fanoutSeconds *metrics.Histogram
	compressions  *metrics.Counter
	compressIn    *metrics.Counter
	compressOut   *metrics.Counter
	plain         *metrics.Counter
	deflated      *metrics.Counter
	conflated     *metrics.Counter
	streamReads   *metrics.Counter
	streamFailed  *metrics.Counter
}

func newHubMetrics(h *Hub, set *metrics.Set) *hubMetrics {
	m := &hubMetrics{
		publications:  set.NewCounter(`wsfan_publications_total`),
		deliveries:    set.NewCounter(`wsfan_deliveries_total`),
		publishPanics: set.NewCounter(`wsfan_publish_panics_total`),
		histEvictions: set.NewCounter(`wsfan_history_evictions_total`),
		recovered:     set.NewCounter(`wsfan_history_recoveries_total{result="recovered"}`),
		notRecovered:  set.NewCounter(`wsfan_history_recoveries_total{result="not_recovered"}`),
		fanoutSeconds: set.NewHistogram(`wsfan_fanout_duration_seconds`),
		compressions:  set.NewCounter(`wsfan_compressions_total`),
		compressIn:    set.NewCounter(`wsfan_compression_bytes_in_total`),
		compressOut:   set.NewCounter(`wsfan_compression_bytes_out_total`),
		plain:         set.NewCounter(`wsfan_deliveries_by_encoding_total{encoding="plain"}`),
		deflated:      set.NewCounter(`wsfan_deliveries_by_encoding_total{encoding="deflate"}`),
		conflated:     set.NewCounter(`wsfan_publications_conflated_total`),
		streamReads:   set.NewCounter(`wsfan_jetstream_reads_total{result="ok"}`),
		streamFailed:  set.NewCounter(`wsfan_jetstream_reads_total{result="error"}`),
	}
	h.idx.RegisterMetrics(set) // per-shard lock wait and hold, sizes, patterns
	set.NewGauge(`wsfan_history_bytes`, func() float64 { return float64(h.budget.Bytes()) })
	set.NewGauge(`wsfan_channel_entries`, func() float64 { return float64(h.idx.Entries()) })
	set.NewGauge(`wsfan_subscriptions`, func() float64 { return float64(h.idx.Subscriptions()) })
	set.NewGauge(`wsfan_channels`, func() float64 { return float64(h.idx.Channels()) })
	return m
}

// count adds one publication's deliveries.
func (m *hubMetrics) count(n *deliveries) {
	m.deliveries.Add(n.plain + n.deflated)
	if n.plain > 0 {
		m.plain.Add(n.plain)
	}
	if n.deflated > 0 {
		m.deflated.Add(n.deflated)
	}
}

// countRead counts a subscribe's read from the stream.
func (m *hubMetrics) countRead(err error) {
	if err != nil {
		m.streamFailed.Inc()
	} else {
		m.streamReads.Inc()
	}
}
