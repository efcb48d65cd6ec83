package main

import (
	"fmt"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Latency histograms hold microseconds from 1 µs to 10 minutes with three
// significant digits (0.1% error).
const (
	histLowest  = 1
	histHighest = 600_000_000
	histDigits  = 3
)

// newHist returns an empty latency histogram (µs). A histogram is not safe
// for concurrent use.
func newHist() *hdr.Histogram { return hdr.New(histLowest, histHighest, histDigits) }

// recordMicros records v µs, clamped into the histogram's range.
func recordMicros(h *hdr.Histogram, v int64) {
	if v < histLowest {
		v = histLowest
	} else if v > histHighest {
		v = histHighest
	}
	_ = h.RecordValue(v)
}

// encodeHist encodes h for the load processes' reports; nil when empty.
func encodeHist(h *hdr.Histogram) []byte {
	if h.TotalCount() == 0 {
		return nil
	}
	b, err := h.Encode(hdr.V2CompressedEncodingCookieBase)
	if err != nil {
		panic(fmt.Sprintf("bench: cannot encode histogram: %v", err)) // only on a broken geometry
	}
	return b
}

// mergeEncoded adds an encodeHist result to h.
func mergeEncoded(h *hdr.Histogram, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	d, err := hdr.Decode(b)
	if err != nil {
		return fmt.Errorf("cannot decode histogram: %w", err)
	}
	h.Merge(d)
	return nil
}

// latency is a histogram's summary in milliseconds.
type latency struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p999_ms"`
	Max   float64 `json:"max_ms"`
}

// summarize reads the percentiles of a µs histogram.
func summarize(h *hdr.Histogram) latency {
	if h.TotalCount() == 0 {
		return latency{}
	}
	ms := func(us int64) float64 { return float64(us) / 1000 }
	return latency{
		Count: h.TotalCount(),
		Mean:  h.Mean() / 1000,
		P50:   ms(h.ValueAtPercentile(50)),
		P90:   ms(h.ValueAtPercentile(90)),
		P99:   ms(h.ValueAtPercentile(99)),
		P999:  ms(h.ValueAtPercentile(99.9)),
		Max:   ms(h.Max()),
	}
}
