package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestTickerOptions(t *testing.T) {
	o := mustParse(t, "-scenario ticker -spawn")
	if o.Conns != 10000 || o.Tokens != 1 || o.Dist != distAll || o.Rate != 1000 || o.Batch != 1 || !o.LastValue ||
		len(o.Conflate) != 1 || o.Conflate[0] != "token.T0.trade" || o.ConflateInterval != 100*time.Millisecond || !o.Companion {
		t.Fatalf("not the ticker preset: %+v", o)
	}
	runs := o.runs()
	if len(runs) != 2 {
		t.Fatalf("%d runs", len(runs))
	}
	a, b := runs[0], runs[1]
	if len(a.Conflate) != 1 || a.Companion || a.isHot() || a.Label != "ticker" {
		t.Fatalf("the conflated run: %+v", a)
	}
	if len(b.Conflate) != 0 || b.ConflateInterval != 0 || !b.isHot() || b.Rate != companionRate || b.Label != "ticker-no-conflation" || !b.LastValue {
		t.Fatalf("the companion: %+v", b)
	}
	// Its last step reaches the conflated run's rate: 5 * 1.5^14 > 1000.
	if b.HotSteps != 15 || b.Step != 3*time.Second {
		t.Fatalf("companion steps %d of %v", b.HotSteps, b.Step)
	}
	// Both spawn a server: the companion's config has no [conflation].
	text, err := serverConfig(1, 2, 0, b)
	if err != nil || strings.Contains(text, "conflation") {
		t.Fatalf("companion config %q, %v", text, err)
	}
	if text, _ := serverConfig(1, 2, 0, a); !strings.Contains(text, "[conflation]") || !strings.Contains(text, `interval = "100ms"`) {
		t.Fatalf("ticker config %q", text)
	}

	o = mustParse(t, "-scenario ticker -spawn -no-conflation")
	if runs := o.runs(); len(runs) != 1 || len(runs[0].Conflate) != 0 || !runs[0].isHot() {
		t.Fatalf("-no-conflation runs %+v", runs)
	}
	o = mustParse(t, "-scenario ticker -spawn -companion=false")
	if runs := o.runs(); len(runs) != 1 || len(runs[0].Conflate) != 1 {
		t.Fatalf("-companion=false runs %+v", runs)
	}
	wantParseErrors(t, map[string]string{"-scenario seed -spawn -companion": "need -conflate"})

	f := func(start, target, factor float64, want int) {
		t.Helper()
		if got := companionSteps(start, target, factor); got != want {
			t.Fatalf("companionSteps(%v, %v, %v) = %d; want %d", start, target, factor, got, want)
		}
	}
	f(5, 1000, 1.5, 15)
	f(5, 7.5, 1.5, 2)
	f(5, 5, 1.5, 1)
	f(5, 20, 2, 3)
}

func TestCompareConflation(t *testing.T) {
	a := &result{Label: "ticker", Publish: &publishResult{PubsPerSec: 1000, DeliveredPerSec: 100000, cores: cores{ServerCores: 0.3}, ServerWritesPerSec: 100000,
		DeliveriesPerWrite: 1, Latency: latency{P50: 60, P99: 110}}}
	b := &result{Label: "ticker-no-conflation", Hot: &hotResult{Steps: []hotStep{
		{PubsPerSec: 100, DeliveredPerSec: 1e6, cores: cores{ServerCores: 0.9}, KeptUp: true},
		{PubsPerSec: 250, DeliveredPerSec: 2.5e6, cores: cores{ServerCores: 1}, KeptUp: true, Latency: latency{P50: 100, P99: 200}},
		{PubsPerSec: 380, DeliveredPerSec: 2e6, cores: cores{ServerCores: 1}},
	}}}
	o := &options{Companion: true, Conns: 10000}
	c := compareRuns(o, []*result{a, b})
	if c == nil || c.Ratio != 4 {
		t.Fatalf("comparison %+v", c)
	}
	got := map[string][]float64{}
	for _, r := range c.Rows {
		got[r.Name] = r.Values
	}
	if v := got["messages/s per subscriber"]; v[0] != 10 || v[1] != 250 {
		t.Fatalf("per subscriber %v", v)
	}
	if v := got["server CPU µs per publication"]; v[0] != 300 || v[1] != 4000 {
		t.Fatalf("CPU per publication %v", v)
	}
	if v := got["latency p99 ms"]; v[0] != 110 || v[1] != 200 {
		t.Fatalf("p99 %v", v)
	}
}

func TestConflationResult(t *testing.T) {
	o := &options{Conns: 100, Conflate: []string{"token.T0.trade"}, LastValue: true}
	good := &lossTotals{Expected: 3000, Covered: 3000, Received: 1100, Conflated: 1900, LimitPerSec: 11, MaxPerSec: 11, LastChecked: 100}
	r := newConflationResult(o, good, &publishResult{DeliveredPerSec: 1000})
	if !r.OK || r.IntervalMS != 100 || r.MeanPerSubPerSec != 10 || len(r.Failures) != 0 {
		t.Fatalf("good run judged %+v", r)
	}
	f := func(mod func(t *lossTotals), want string) {
		t.Helper()
		bad := *good
		mod(&bad)
		r := newConflationResult(o, &bad, nil)
		if r.OK || !strings.Contains(strings.Join(r.Failures, "\n"), want) {
			t.Fatalf("judged %+v; want a failure containing %q", r, want)
		}
	}
	f(func(t *lossTotals) { t.OverLimit, t.MaxPerSec = 3, 14 }, "3 subscriptions received more than 11 messages in one second (at most 14)")
	f(func(t *lossTotals) { t.Gaps = 2 }, "2 seqs skipped")
	f(func(t *lossTotals) { t.Unexplained = 1 }, "1 steps shorter")
	f(func(t *lossTotals) { t.Missing = 5 }, "5 of 3000 publications owed")
	f(func(t *lossTotals) { t.LastMismatch = 7 }, "7 of 100 subscriptions did not end on the last published value")
	f(func(t *lossTotals) { t.LastChecked = 0 }, "no subscriber's last value")
	var sb strings.Builder
	printConflation(&sb, r)
	if !strings.Contains(sb.String(), "conflation rules: ok") {
		t.Fatalf("printed %s", sb.String())
	}
}

// TestPublisherValues checks the publisher's value numbers and the last
// values it publishes alone, against a stub of POST /publish.
func TestPublisherValues(t *testing.T) {
	var mu sync.Mutex
	var bodies [][]map[string]json.RawMessage
	enough := make(chan struct{}) // closed at the 10th request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var pubs []map[string]json.RawMessage
		if err := json.NewDecoder(r.Body).Decode(&pubs); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		mu.Lock()
		bodies = append(bodies, pubs)
		if len(bodies) == 10 {
			close(enough)
		}
		mu.Unlock()
		_, _ = w.Write([]byte(`{"accepted":1}`))
	}))
	defer srv.Close()
	o := defaults()
	o.Admin, o.Tokens, o.Dist, o.LastValue, o.Batch = srv.URL, 2, distAll, true, 3
	p := newPublisher(o, newPlan(o), map[string]int{"token.T0.trade": 5, "token.T1.trade": 5})
	p.setRate(300)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.run(ctx, 1); close(done) }()
	<-enough
	cancel()
	<-done // every request in flight has been answered
	n := p.value.Load()
	last := p.publishLast()
	if len(last) != 2 || last["token.T0.trade"] != n+1 || last["token.T1.trade"] != n+2 {
		t.Fatalf("last values %v after %d", last, n)
	}
	mu.Lock()
	defer mu.Unlock()
	seen := map[int64]bool{}
	for i, b := range bodies {
		if i >= len(bodies)-2 && len(b) != 1 {
			t.Fatalf("a last value shares its request: %d publications", len(b))
		}
		for _, pub := range b {
			var data struct{ T, N int64 }
			if err := json.Unmarshal(pub["data"], &data); err != nil || data.T == 0 || data.N == 0 {
				t.Fatalf("data %s: %v", pub["data"], err)
			}
			if seen[data.N] {
				t.Fatalf("value %d published twice", data.N)
			}
			seen[data.N] = true
		}
	}
	if int64(len(seen)) != n+2 {
		t.Fatalf("%d distinct values, %d given", len(seen), n+2)
	}
}

// TestTickerCompanionSmoke runs the ticker's companion (no conflation,
// rising rate) small against the spawned server: the value numbers and
// the last-value check work end to end. The conflated run itself needs
// the server's [conflation].
func TestTickerCompanionSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns the server and opens 200 connections")
	}
	// -no-conflation makes one run: the companion.
	res := runFirst(t, 60*time.Second, "-scenario", "ticker", "-no-conflation", "-spawn", "-server-bin", serverBin(t), "-quiet",
		"-conns", "200", "-rate", "40", "-hot-factor", "2", "-step", "500ms", "-drain", "10s")
	// 5, 10, 20, 40/s; 500 ms steps are short enough that a step may be
	// judged behind on the publisher's pace alone.
	if res.Hot == nil || len(res.Hot.Steps) < 2 || len(res.Hot.Steps) > 4 || res.Hot.Steps[0].Rate != 5 {
		t.Fatalf("steps %+v", res.Hot)
	}
	r := res.Conflation
	if r == nil || !r.OK || r.LastChecked != 200 || r.LastMismatch != 0 || r.Conflated != 0 || r.IntervalMS != 0 {
		t.Fatalf("conflation result %+v", r)
	}
	if l := res.Loss; l.Missing != 0 || l.Gaps != 0 || l.Received != l.Expected {
		t.Fatalf("loss %+v", l)
	}
}
