package main

import (
	"fmt"
	"io"
	"time"
)

// conflationResult judges a run by PROTOCOL.md's conflation rules (the
// ticker scenario, issue #16): on a conflated channel each subscriber
// gets at most one message per interval (counted per second of receipt
// time, +1 for a burst straddling a second), every seq step is explained
// by "conflated", nothing is lost once conflated publications are
// counted, and the last publication reaches everyone.
type conflationResult struct {
	Patterns   []string `json:"patterns"`
	IntervalMS float64  `json:"interval_ms"` // 0: not conflated (a companion run)
	// MeanPerSubPerSec is the messages one subscriber received per second
	// while publishing (all channels).
	MeanPerSubPerSec float64  `json:"mean_messages_per_subscriber_per_s"`
	LimitPerSec      uint32   `json:"limit_per_s"`
	MaxPerSec        uint32   `json:"max_per_s"`
	OverLimit        uint64   `json:"over_limit"`
	Conflated        uint64   `json:"conflated"`
	Covered          uint64   `json:"covered"`
	Expected         uint64   `json:"expected"`
	Missing          uint64   `json:"missing"`
	Gaps             uint64   `json:"gaps"`
	Unexplained      uint64   `json:"unexplained_steps"`
	Dups             uint64   `json:"dups"`
	LastChecked      uint64   `json:"last_value_checked"`
	LastMismatch     uint64   `json:"last_value_mismatch"`
	OK               bool     `json:"ok"`
	Failures         []string `json:"failures,omitempty"`
}

// newConflationResult judges the loss totals of a run with -conflate or
// -last-value; pub (nil for a hot run) gives the per-subscriber rate.
func newConflationResult(o *options, t *lossTotals, pub *publishResult) *conflationResult {
	r := &conflationResult{
		Patterns: o.Conflate, LimitPerSec: t.LimitPerSec, MaxPerSec: t.MaxPerSec, OverLimit: t.OverLimit,
		Conflated: t.Conflated, Covered: t.Covered, Expected: t.Expected, Missing: t.Missing, Gaps: t.Gaps,
		Unexplained: t.Unexplained, Dups: t.Dups, LastChecked: t.LastChecked, LastMismatch: t.LastMismatch,
	}
	if len(o.Conflate) > 0 {
		iv := o.ConflateInterval
		if iv <= 0 {
			iv = 100 * time.Millisecond
		}
		r.IntervalMS = float64(iv) / float64(time.Millisecond)
	}
	if pub != nil && o.Conns > 0 {
		r.MeanPerSubPerSec = pub.DeliveredPerSec / float64(o.Conns)
	}
	fail := func(format string, a ...any) { r.Failures = append(r.Failures, fmt.Sprintf(format, a...)) }
	if r.OverLimit > 0 {
		fail("%d subscriptions received more than %d messages in one second (at most %d)", r.OverLimit, r.LimitPerSec, r.MaxPerSec)
	}
	if r.Gaps > 0 || r.Unexplained > 0 || r.Dups > 0 {
		fail("%d seqs skipped that \"conflated\" does not explain, %d steps shorter than 1 + conflated, %d duplicates", r.Gaps, r.Unexplained, r.Dups)
	}
	if r.Missing > 0 {
		fail("%d of %d publications owed are neither delivered nor counted as conflated", r.Missing, r.Expected)
	}
	if o.LastValue && r.LastChecked == 0 {
		fail("no subscriber's last value could be checked")
	}
	if r.LastMismatch > 0 {
		fail("%d of %d subscriptions did not end on the last published value", r.LastMismatch, r.LastChecked)
	}
	r.OK = len(r.Failures) == 0
	return r
}

func printConflation(w io.Writer, r *conflationResult) {
	if r.IntervalMS > 0 {
		fmt.Fprintf(w, "\nconflation %v every %.0f ms: %.1f messages/s per subscriber (mean); at most %d in one second (limit %d), %d subscriptions over\n",
			r.Patterns, r.IntervalMS, r.MeanPerSubPerSec, r.MaxPerSec, r.LimitPerSec, r.OverLimit)
	} else {
		fmt.Fprintf(w, "\nno conflation: %.1f messages/s per subscriber (mean)\n", r.MeanPerSubPerSec)
	}
	fmt.Fprintf(w, "publications owed %d, stood for by the messages %d (%d of them as \"conflated\"), missing %d; unexplained seq skips %d, short steps %d, duplicates %d\n",
		r.Expected, r.Covered, r.Conflated, r.Missing, r.Gaps, r.Unexplained, r.Dups)
	if r.LastChecked > 0 {
		fmt.Fprintf(w, "last published value: %d of %d subscriptions ended on it\n", r.LastChecked-r.LastMismatch, r.LastChecked)
	}
	fmt.Fprintln(w, "latency above: from the publication of the value each message carries (data.t) to its receipt")
	verdict := "ok"
	if !r.OK {
		verdict = "FAILED"
	}
	fmt.Fprintf(w, "conflation rules: %s\n", verdict)
}
