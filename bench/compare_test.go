package main

import (
	"strings"
	"testing"
)

func TestRunsReference(t *testing.T) {
	o := mustParse(t, "-scenario uniform -spawn -reference raw -server-cpus 0 -load-cpus 1")
	if o.Conns != 10000 || o.Tokens != 1000 || o.Dist != distUniform || o.PerConn != 3 || o.Rate != 833 || o.Batch != 1 {
		t.Fatalf("not the uniform preset: %+v", o)
	}
	// ~30 subscribers per channel: ~25K deliveries/s owed.
	subs := newPlan(o).subscribers(o.Conns)
	total := 0
	for _, n := range subs {
		total += n
	}
	if len(subs) != 1000 || total != 30000 {
		t.Fatalf("%d channels, %d subscriptions", len(subs), total)
	}
	runs := o.runs()
	if len(runs) != 2 {
		t.Fatalf("%d runs", len(runs))
	}
	a, b := runs[0], runs[1]
	if a.Target != targetWsfan || b.Target != targetRaw || a.Label != "uniform" || b.Label != "uniform-raw" {
		t.Fatalf("runs %q/%q, %q/%q", a.Target, a.Label, b.Target, b.Label)
	}
	if a.Reference != "" || b.Reference != "" {
		t.Fatal("a run of the pair must not start another pair")
	}
	if b.ServerCPUs != "0" || b.LoadCPUs != "1" || b.Conns != a.Conns || b.Rate != a.Rate {
		t.Fatal("the reference run does not get the same load and pinning")
	}
	if len(defaults().runs()) != 1 {
		t.Fatal("without -reference, one run")
	}

	ra := &result{Label: "uniform", Publish: &publishResult{CPUPerDeliveryUS: 13.2, DeliveredPerSec: 25000}}
	rb := &result{Label: "uniform-raw", Publish: &publishResult{CPUPerDeliveryUS: 12, DeliveredPerSec: 25000}}
	c := compareRuns(o, []*result{ra, rb})
	if c == nil || c.Ratio < 1.0999 || c.Ratio > 1.1001 || len(c.Rows) == 0 {
		t.Fatalf("comparison %+v", c)
	}
	var sb strings.Builder
	printComparison(&sb, c)
	if !strings.Contains(sb.String(), "server CPU per delivery, uniform / uniform-raw: 1.100") {
		t.Fatalf("printed:\n%s", sb.String())
	}
	if compareRuns(o, []*result{ra}) != nil {
		t.Fatal("a failed second run has no comparison")
	}
}
