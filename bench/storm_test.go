package main

import (
	"math"
	"strings"
	"testing"
	"time"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9*max(1, math.Abs(b)) }

func TestStormPhaseAccount(t *testing.T) {
	f := func(cpu, deliveries float64, scrapes, n int64, perDelivery, perScrape, gross, net float64) {
		t.Helper()
		p := stormPhase{Count: n, ServerCPU: cpu, Deliveries: deliveries, Scrapes: scrapes, Seconds: 0.5}
		p.account(perDelivery, perScrape)
		if !near(p.PerConnUS, gross) || !near(p.NetPerConnUS, net) {
			t.Fatalf("account(cpu %v, deliveries %v, scrapes %d, n %d) = %v gross, %v net; want %v, %v",
				cpu, deliveries, scrapes, n, p.PerConnUS, p.NetPerConnUS, gross, net)
		}
		if !near(p.PerSec, float64(n)/0.5) {
			t.Fatalf("per second %v", p.PerSec)
		}
	}
	// 9,000 disconnects for 0.54 s of CPU: 60 µs each.
	f(0.54, 0, 0, 9000, 0, 0, 60, 60)
	// 0.1 s of it went to 20,000 deliveries at 4 µs and 10 scrapes at 1 ms.
	f(0.63, 20000, 10, 9000, 4e-6, 1e-3, 70, 60)
	// The estimate never goes below zero.
	f(0.01, 1e6, 0, 100, 1e-6, 0, 100, 0)
	// Nothing to divide by.
	f(0.5, 0, 0, 0, 0, 0, 0, 0)
}

func TestStormSummarize(t *testing.T) {
	round := func(disc, rec, p99 float64) stormRound {
		return stormRound{
			Disconnect: stormPhase{PerConnUS: disc + 5, NetPerConnUS: disc},
			Reconnect:  stormPhase{PerConnUS: rec + 5, NetPerConnUS: rec},
			P99Ratio:   p99,
		}
	}
	st := stormStage{Leaving: 9000, Rounds: []stormRound{round(50, 120, 1.5), round(70, 100, 3), round(40, 110, 1)}}
	st.summarize()
	if st.DisconnectNetUS != 50 || st.DisconnectUS != 55 || st.ReconnectNetUS != 110 || st.ReconnectUS != 115 || st.P99Ratio != 1.5 {
		t.Fatalf("medians %+v", st)
	}
	f := func(v []float64, want float64) {
		t.Helper()
		if got := median(v); got != want {
			t.Fatalf("median(%v) = %v; want %v", v, got, want)
		}
	}
	f(nil, 0)
	f([]float64{3}, 3)
	f([]float64{4, 1, 3, 2}, 2.5)
	f([]float64{5, 1, 3}, 3)

	sr := &stormResult{Stages: []stormStage{{Leaving: 1000, DisconnectNetUS: 40}, {Leaving: 9000, DisconnectNetUS: 65, P99Ratio: 2.5}, {Leaving: 19000, DisconnectNetUS: 50}}}
	if lo, hi := sr.disconnectRange(); lo != 40 || hi != 65 {
		t.Fatalf("range %v-%v", lo, hi)
	}
	c := &coordinator{res: &result{}}
	c.checkStorm(sr)
	notes := strings.Join(c.res.Notes, "\n")
	for _, want := range []string{"storm 9000: server CPU per disconnect 65.0 µs", "storm 9000: publication p99 during the storm is 2.5x", "ranges 40.0-65.0 µs over 3 stages"} {
		if !strings.Contains(notes, want) {
			t.Fatalf("notes lack %q:\n%s", want, notes)
		}
	}
	if strings.Contains(notes, "storm 1000:") || strings.Contains(notes, "storm 19000:") {
		t.Fatalf("notes on stages within the targets:\n%s", notes)
	}
}

func TestStormOptions(t *testing.T) {
	o := mustParse(t, "-scenario storm")
	if !o.isStorm() || o.Observers != 100 || o.Tokens != 5 || o.Dist != distAll || o.Rate != 10 || len(o.Stages) != 1 || o.Stages[0] != 9000 {
		t.Fatalf("not the storm preset: %+v", o)
	}
	// The stages count the connections that leave; the observers come on
	// top, and each is on all the hot channels.
	if o.totalConns(9000) != 9100 || defaults().totalConns(9000) != 9000 {
		t.Fatal("totalConns")
	}
	p := newPlan(o)
	if subs, chans := p.planGauges(o.Observers); subs != 500 || chans != 5 {
		t.Fatalf("observers' gauges %d subscriptions, %d channels", subs, chans)
	}
	if subs, chans := p.planGauges(o.totalConns(9000)); subs != 45500 || chans != 5 {
		t.Fatalf("gauges %d subscriptions, %d channels", subs, chans)
	}
	o = mustParse(t, "-scenario storm -stages 1000,4000,9000,19000 -procs 2 -storm-rounds 3")
	if len(o.Stages) != 4 || o.Procs != 2 || o.StormRounds != 3 {
		t.Fatalf("stages %v procs %d rounds %d", o.Stages, o.Procs, o.StormRounds)
	}
	g := gauges{Connections: 100, Subscriptions: 500, Channels: 5, Want: [3]float64{100, 500, 5}, Settled: true}
	if g.String() != "100/500/5 ok" {
		t.Fatalf("gauges %s", g)
	}
	g.Settled, g.Connections = false, 180
	if g.String() != "180/500/5 NOT 100/500/5" {
		t.Fatalf("gauges %s", g)
	}
	wantParseErrors(t, map[string]string{
		"-scenario storm -observers 0": "needs -observers",
		"-scenario storm -hot-steps 3": "does not combine",
		"-storm-rounds -1":             "must not be negative",
	})
}

// TestStormSmoke runs a small storm against the spawned server: two
// stages, two rounds each; every drop and reconnect is accounted, the
// gauges settle after each phase, the observers lose nothing, and the
// server is empty at the end.
func TestStormSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns the server and opens 330 connections")
	}
	res := runFirst(t, 90*time.Second, "-scenario", "storm", "-spawn", "-server-bin", serverBin(t), "-quiet",
		"-stages", "100,300", "-observers", "30", "-storm-rounds", "2", "-duration", "1s", "-rate", "20", "-settle", "200ms")
	sr := res.Storm
	if sr == nil || len(sr.Stages) != 2 || sr.Channels != 5 || sr.Observers != 30 {
		t.Fatalf("storm result %+v", sr)
	}
	for _, st := range sr.Stages {
		if len(st.Rounds) != 2 {
			t.Fatalf("stage %d: %d rounds", st.Leaving, len(st.Rounds))
		}
		if st.Steady.Latency.Count == 0 || st.Steady.Deliveries <= 0 {
			t.Fatalf("stage %d: steady %+v", st.Leaving, st.Steady)
		}
		for i, r := range st.Rounds {
			d, rc := r.Disconnect, r.Reconnect
			if d.Count != int64(st.Leaving) || rc.Count != int64(st.Leaving) || rc.Failed != 0 {
				t.Fatalf("stage %d round %d: dropped %d, reconnected %d, failed %d", st.Leaving, i, d.Count, rc.Count, rc.Failed)
			}
			if !d.Gauges.Settled || !rc.Gauges.Settled {
				t.Fatalf("stage %d round %d: gauges %v, %v", st.Leaving, i, d.Gauges, rc.Gauges)
			}
			if d.ServerCPU <= 0 || rc.ServerCPU <= 0 || d.PerConnUS <= 0 || rc.ConnectLatency.Count != int64(st.Leaving) {
				t.Fatalf("stage %d round %d: %+v %+v", st.Leaving, i, d, rc)
			}
		}
	}
	if l := res.Loss; l == nil || res.LossScope != "observers" || l.Expected == 0 || l.Missing != 0 || l.Gaps != 0 || l.Dups != 0 {
		t.Fatalf("observers' loss %+v (scope %q)", res.Loss, res.LossScope)
	}
	if len(res.Closes) != 0 {
		t.Fatalf("server-initiated closes: %v %v", res.Closes, res.CloseLog)
	}
	if res.End == nil || !res.End.Zero {
		t.Fatalf("after every client left: %+v", res.End)
	}
}
