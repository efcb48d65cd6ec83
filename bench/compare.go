package main

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"
)

// companionRate is the first rate step of a companion run (-companion,
// -no-conflation), publications/s; it rises by -hot-factor every -step
// as hot does.
const companionRate = 5.0

// runs returns the runs one invocation makes: o itself, or with
// -reference raw o against wsfan and then a copy against the raw
// reference server, labelled <label>-raw. The runs share everything
// else: connections, subscriptions, publications, pinning.
func (o *options) runs() []*options {
	switch {
	case o.NoConflation:
		return []*options{o.companion()}
	case o.Companion:
		main := *o
		main.Companion = false
		return []*options{&main, o.companion()}
	case o.Reference != targetRaw:
		return []*options{o}
	}
	ref := *o
	ref.Reference, ref.Target, ref.Label = "", targetRaw, o.Label+"-raw"
	main := *o
	main.Reference = ""
	return []*options{&main, &ref}
}

// companion is o's load on the same channels without conflation, at a
// rate rising from companionRate by -hot-factor every -step until it
// falls behind or passes o's rate, labelled <label>-no-conflation.
func (o *options) companion() *options {
	c := *o
	c.Conflate, c.ConflateInterval, c.Companion, c.NoConflation = nil, 0, false, false
	c.Label = o.Label + "-no-conflation"
	c.Rate = companionRate
	c.HotSteps = companionSteps(companionRate, o.Rate, o.HotFactor)
	return &c
}

// companionSteps is the number of rate steps from start, by factor, whose
// last reaches at least target.
func companionSteps(start, target, factor float64) int {
	if target <= start || factor <= 1 {
		return 1
	}
	return int(math.Ceil(math.Log(target/start)/math.Log(factor)-1e-9)) + 1
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
	if o.Companion {
		return compareConflation(res[0], res[1], o.Conns)
	}
	return nil
}

// compareConflation puts a conflated run's publishing phase beside its
// companion's last rate step that kept up (the most the channel sustains
// without conflation); subscribers divides deliveries per subscriber.
func compareConflation(a, b *result, subscribers int) *comparison {
	c := &comparison{Runs: []string{a.Label, b.Label},
		RatioName: fmt.Sprintf("publications/s, %s / the most %s sustained", a.Label, b.Label)}
	if a.Publish == nil || b.Hot == nil {
		return c
	}
	var s hotStep // zero if no step kept up
	for _, st := range b.Hot.Steps {
		if st.KeptUp {
			s = st
		}
	}
	p := a.Publish
	row := func(name, format string, x, y float64) {
		c.Rows = append(c.Rows, cmpRow{Name: name, Format: format, Values: []float64{x, y}})
	}
	n := float64(max(subscribers, 1))
	row("publications/s", "%.0f", p.PubsPerSec, s.PubsPerSec)
	row("deliveries/s received", "%.0f", p.DeliveredPerSec, s.DeliveredPerSec)
	row("messages/s per subscriber", "%.1f", p.DeliveredPerSec/n, s.DeliveredPerSec/n)
	row("server cores", "%.3f", p.ServerCores, s.ServerCores)
	row("server CPU µs per publication", "%.1f", ratio(p.ServerCores*1e6, p.PubsPerSec), ratio(s.ServerCores*1e6, s.PubsPerSec))
	row("server socket writes/s", "%.0f", p.ServerWritesPerSec, s.ServerWritesPerSec)
	row("deliveries per write", "%.2f", p.DeliveriesPerWrite, s.DeliveriesPerWrite)
	row("latency p50 ms (value published to received)", "%.1f", p.Latency.P50, s.Latency.P50)
	row("latency p99 ms", "%.1f", p.Latency.P99, s.Latency.P99)
	c.Ratio = ratio(p.PubsPerSec, s.PubsPerSec)
	return c
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
