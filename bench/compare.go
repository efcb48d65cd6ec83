package main

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// runs returns the runs one invocation makes: o itself, or with
// -reference raw o against wsfan and then a copy against the raw
// reference server, labelled <label>-raw. The runs share everything
// else: connections, subscriptions, publications, pinning.
func (o *options) runs() []*options {
	if o.Reference != targetRaw {
		return []*options{o}
	}
	ref := *o
	ref.Reference, ref.Target, ref.Label = "", targetRaw, o.Label+"-raw"
	main := *o
	main.Reference = ""
	return []*options{&main, &ref}
}

// comparison puts two runs of one invocation side by side.
type comparison struct {
	Runs []string `json:"runs"` // labels
	Rows []cmpRow `json:"rows"`
	// Ratio is the headline: RatioName says what it divides.
	Ratio     float64 `json:"ratio"`
	RatioName string  `json:"ratio_name"`
}

type cmpRow struct {
	Name   string    `json:"name"`
	Values []float64 `json:"values"` // one per run
	Format string    `json:"-"`      // fmt verb for the values
}

// compareReference compares a wsfan run with its raw-reference run:
// server CPU per delivery, writes and latency of the publishing phase.
func compareReference(a, b *result) *comparison {
	c := &comparison{Runs: []string{a.Label, b.Label}, RatioName: fmt.Sprintf("server CPU per delivery, %s / %s", a.Label, b.Label)}
	if a.Publish == nil || b.Publish == nil {
		return c
	}
	pa, pb := a.Publish, b.Publish
	row := func(name, format string, f func(p *publishResult) float64) {
		c.Rows = append(c.Rows, cmpRow{Name: name, Format: format, Values: []float64{f(pa), f(pb)}})
	}
	row("publications/s", "%.0f", func(p *publishResult) float64 { return p.PubsPerSec })
	row("deliveries/s received", "%.0f", func(p *publishResult) float64 { return p.DeliveredPerSec })
	row("server cores", "%.3f", func(p *publishResult) float64 { return p.ServerCores })
	row("server CPU µs per delivery", "%.2f", func(p *publishResult) float64 { return p.CPUPerDeliveryUS })
	row("server socket writes/s", "%.0f", func(p *publishResult) float64 { return p.ServerWritesPerSec })
	row("server write syscalls/s (/proc io)", "%.0f", func(p *publishResult) float64 { return p.SyscallsPerSec })
	row("deliveries per write", "%.2f", func(p *publishResult) float64 { return p.DeliveriesPerWrite })
	row("latency p50 ms", "%.2f", func(p *publishResult) float64 { return p.Latency.P50 })
	row("latency p99 ms", "%.2f", func(p *publishResult) float64 { return p.Latency.P99 })
	c.Ratio = ratio(pa.CPUPerDeliveryUS, pb.CPUPerDeliveryUS)
	return c
}

// compareRuns builds the comparison of an invocation's runs; nil for one
// run.
func compareRuns(o *options, res []*result) *comparison {
	if len(res) != 2 || res[0] == nil || res[1] == nil {
		return nil
	}
	if o.Reference == targetRaw {
		return compareReference(res[0], res[1])
	}
	return nil
}

func printComparison(w io.Writer, c *comparison) {
	fmt.Fprintf(w, "\n== comparison: %s vs %s\n", c.Runs[0], c.Runs[1])
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "\t%s\t%s\t\n", c.Runs[0], c.Runs[1])
	for _, r := range c.Rows {
		f := r.Format
		if f == "" {
			f = "%g"
		}
		fmt.Fprintf(tw, "%s\t"+f+"\t"+f+"\t\n", r.Name, r.Values[0], r.Values[1])
	}
	tw.Flush()
	if c.RatioName != "" {
		fmt.Fprintf(w, "%s: %.3f\n", c.RatioName, c.Ratio)
	}
}
