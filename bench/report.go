package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
)

// printTable writes the result as readable tables.
func printTable(w io.Writer, r *result) {
	o := r.Options
	fmt.Fprintf(w, "== %s (scenario %q, server %s) on %d CPUs, %s; server cpus %q, load cpus %q, %d load process(es); %.1f s\n",
		r.Label, r.Scenario, orDefault(r.Server.Target, targetWsfan), r.Machine.CPUs, r.Machine.GoVersion, orAll(r.Machine.ServerCPUs), orAll(r.Machine.LoadCPUs), o.Procs, r.Elapsed)
	fmt.Fprintf(w, "   subscriptions: %s; publications: %.0f/s", describeSubs(o), o.Rate)
	if o.UserFrac > 0 {
		fmt.Fprintf(w, " (%.0f%% to user channels)", 100*o.UserFrac)
	}
	fmt.Fprintln(w)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	if len(r.Stages) > 0 {
		fmt.Fprintln(w, "\nconnections")
		fmt.Fprintln(tw, "target\topen\tsubscribed\tfailed\tconn/s\tconnect p50 ms\tp99 ms\tserver RSS MB\tKB/conn\theap MB\tload RSS MB\tserver cores\tload cores\t")
		for _, s := range r.Stages {
			fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%.0f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.2f\t%.2f\t\n",
				s.Target, s.Open, s.Connected, s.Failed, s.ConnectsPerSec, s.ConnectLatency.P50, s.ConnectLatency.P99,
				mb(s.ServerRSSKB), s.KBPerConn, mb(s.HeapInuseKB), mb(s.LoadRSSKB), s.ServerCores, s.LoadCores)
		}
		tw.Flush()
		if len(r.Stages) > 1 {
			fmt.Fprintf(w, "RSS slope: %.2f KB per connection (least squares over the stages)\n", rssSlope(r))
		}
	}
	if p := r.Publish; p != nil {
		fmt.Fprintln(w, "\npublishing")
		fmt.Fprintln(tw, "pubs/s\texpected deliv/s\tserver wrote/s\tdelivered/s\tserver cores\tCPU µs/deliv\tserver writes/s\tdeliv/write\twrite syscalls/s\tclient reads/s\tframes/read\tload cores\tload µs/deliv\t")
		fmt.Fprintf(tw, "%.0f\t%.0f\t%.0f\t%.0f\t%.2f\t%.2f\t%.0f\t%.1f\t%.0f\t%.0f\t%.1f\t%.2f\t%.2f\t\n",
			p.PubsPerSec, p.ExpectedPerSec, p.ServerWrittenPerSec, p.DeliveredPerSec, p.ServerCores, p.CPUPerDeliveryUS,
			p.ServerWritesPerSec, p.DeliveriesPerWrite, p.SyscallsPerSec, p.ClientReadsPerSec, p.FramesPerRead, p.LoadCores, p.LoadPerDeliveryUS)
		tw.Flush()
		fmt.Fprintf(w, "machine: %.2f cores busy (%s); other processes %.2f, ksoftirqd %.2f; interrupt context (inside the above) %.2f\n",
			p.MachineCores, formatBusy(p.CPUBusy), p.OtherCores, p.SoftirqCores, p.IRQCores)
		printLatency(w, tw, p.Latency)
		fmt.Fprintf(w, "slow-consumer closes: %d; drain after publishing: %.1f s\n", p.SlowConsumerCloses, p.DrainSeconds)
	}
	if h := r.Hot; h != nil {
		fmt.Fprintln(w, "\nhot channel steps")
		fmt.Fprintln(tw, "rate\tpubs/s\texpected/s\tserver wrote/s\tdelivered/s\tratio\tp50 ms\tp99 ms\tmax ms\tserver cores\twrites/s\tdeliv/write\tload cores\tother cores\tkept up\t")
		for _, s := range h.Steps {
			ku := "yes"
			if !s.KeptUp {
				ku = "no: " + s.Why
			}
			fmt.Fprintf(tw, "%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.2f\t%.1f\t%.1f\t%.1f\t%.2f\t%.0f\t%.1f\t%.2f\t%.2f\t%s\t\n",
				s.Rate, s.PubsPerSec, s.ExpectedPerSec, s.WrittenPerSec, s.DeliveredPerSec, s.Ratio, s.Latency.P50, s.Latency.P99,
				s.Latency.Max, s.ServerCores, s.ServerWritesPerSec, s.DeliveriesPerWrite, s.LoadCores, s.OtherCores, ku)
		}
		tw.Flush()
		fmt.Fprintf(w, "peak %.0f deliveries/s; last step that kept up: %.0f deliveries/s; saturated: %v\n",
			h.PeakDeliveredPerSec, h.SustainedPerSec, h.Saturated)
	}
	if c := r.Churn; c != nil {
		fmt.Fprintln(w, "\nchurn")
		fmt.Fprintln(tw, "reconnects\tfailed\tseconds\treconnects/s\tconnect p50 ms\tp99 ms\tmax ms\tserver cores\tload cores\tother cores\t")
		fmt.Fprintf(tw, "%d\t%d\t%.1f\t%.0f\t%.1f\t%.1f\t%.1f\t%.2f\t%.2f\t%.2f\t\n", c.Reconnects, c.Failed, c.Seconds, c.PerSec,
			c.ConnectLatency.P50, c.ConnectLatency.P99, c.ConnectLatency.Max, c.ServerCores, c.LoadCores, c.OtherCores)
		tw.Flush()
	}
	if r.Storm != nil {
		printStorm(w, r.Storm)
	}
	if r.Conflation != nil {
		printConflation(w, r.Conflation)
	}
	if l := r.Loss; l != nil {
		if r.LossScope != "" {
			fmt.Fprintf(w, "\nloss is counted on the %s only", r.LossScope)
		}
		fmt.Fprintf(w, "\nloss: expected %d, received %d, missing %d, extra %d, seq gaps %d, dups %d, lossy connections %d\n",
			l.Expected, l.Received, l.Missing, l.Extra, l.Gaps, l.Dups, l.LossyConns)
	}
	if len(r.Closes) > 0 {
		fmt.Fprintf(w, "server-initiated closes: %s\n", formatCounts(r.Closes))
		for _, l := range r.CloseLog {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	if len(r.FailReasons) > 0 {
		fmt.Fprintf(w, "connect failures: %s\n", formatCounts(r.FailReasons))
		for _, l := range r.FailLog {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	if len(r.PubErrors) > 0 {
		fmt.Fprintf(w, "publish errors: %s\n", formatCounts(r.PubErrors))
	}
	if e := r.End; e != nil {
		fmt.Fprintf(w, "after all left: connections %v, subscriptions %v, channels %v (zero: %v, after %.1f s); server RSS %.1f MB\n",
			e.Connections, e.Subscriptions, e.Channels, e.Zero, e.ZeroAfter, mb(e.ServerRSSKB))
	}
	if r.WritesSource != "" {
		fmt.Fprintf(w, "writes measured by: %s\n", r.WritesSource)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

func printLatency(w io.Writer, tw *tabwriter.Writer, l latency) {
	fmt.Fprintln(w, "end-to-end latency (publisher send to client receive)")
	fmt.Fprintln(tw, "count\tmean ms\tp50 ms\tp90 ms\tp99 ms\tp99.9 ms\tmax ms\t")
	fmt.Fprintf(tw, "%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t\n", l.Count, l.Mean, l.P50, l.P90, l.P99, l.P999, l.Max)
	tw.Flush()
}

func describeSubs(o *options) string {
	var s string
	switch o.Dist {
	case distAll:
		s = fmt.Sprintf("every connection on all %d token channels", o.Tokens)
	case distZipf:
		s = fmt.Sprintf("%d of %d token channels, zipf s=%.2f", o.PerConn, o.Tokens, o.ZipfS)
	default:
		s = fmt.Sprintf("%d of %d token channels, uniform", o.PerConn, o.Tokens)
	}
	if o.User {
		s += " + own user channel"
	}
	return s
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func orAll(s string) string {
	if s == "" {
		return "all"
	}
	return s
}

func mb(kb int64) float64 { return float64(kb) / 1024 }

func formatCounts(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%q: %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// rssSlope is the least-squares slope of server RSS (KB) over open
// connections across the stages.
func rssSlope(r *result) float64 {
	xs := make([]float64, 0, len(r.Stages)+1)
	ys := make([]float64, 0, len(r.Stages)+1)
	for _, s := range r.Stages {
		xs = append(xs, float64(s.Open))
		ys = append(ys, float64(s.ServerRSSKB))
	}
	return slope(xs, ys)
}

// slope fits y = a + b x by least squares and returns b.
func slope(xs, ys []float64) float64 {
	n := float64(len(xs))
	if n < 2 {
		return 0
	}
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
		sxx += xs[i] * xs[i]
		sxy += xs[i] * ys[i]
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / d
}

// writeReport writes results.json and the charts into dir.
func writeReport(dir string, r *result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create -report directory: %w", err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, r.Label+".json"), b, 0o644); err != nil {
		return err
	}
	return writeCharts(dir, r)
}
