package main

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
)

// stormResult is the storm scenario: per stage, the steady state and each
// disconnect-reconnect round.
type stormResult struct {
	Channels  int `json:"channels"`
	Observers int `json:"observers"`
	// ScrapeCostUS is the server CPU one /metrics scrape costs, measured
	// before the first connection.
	ScrapeCostUS float64      `json:"server_cpu_us_per_scrape"`
	Stages       []stormStage `json:"stages"`
}

// stormStage is one connection count: Leaving connections drop and come
// back, the observers stay. The figures are medians over the rounds.
type stormStage struct {
	Leaving         int          `json:"leaving"`
	Steady          stormWindow  `json:"steady"`
	Rounds          []stormRound `json:"rounds"`
	DisconnectUS    float64      `json:"server_cpu_us_per_disconnect"`
	DisconnectNetUS float64      `json:"server_cpu_us_per_disconnect_net"`
	ReconnectUS     float64      `json:"server_cpu_us_per_reconnect"`
	ReconnectNetUS  float64      `json:"server_cpu_us_per_reconnect_net"`
	P99Ratio        float64      `json:"storm_p99_over_steady"`
}

// stormWindow is a stretch of time on the server and the observers.
type stormWindow struct {
	Seconds   float64 `json:"seconds"`
	ServerCPU float64 `json:"server_cpu_s"`
	cores
	Deliveries       float64 `json:"server_deliveries"` // wsfan_deliveries_total delta
	CPUPerDeliveryUS float64 `json:"server_cpu_us_per_delivery"`
	Publications     int64   `json:"publications"`
	Latency          latency `json:"observer_latency"` // publisher send to observer receipt
}

// stormRound is one mass disconnect and the reconnect that follows.
type stormRound struct {
	Disconnect stormPhase `json:"disconnect"`
	Reconnect  stormPhase `json:"reconnect"`
	// Storm covers both phases: from the drop to the reconnect's gauges.
	Storm    stormWindow `json:"storm"`
	P99Ratio float64     `json:"p99_over_steady"`
}

// stormPhase is the disconnect or the reconnect of a round. Its time runs
// from the command to the load processes until the server's gauges read
// what they must (Gauges.Settled), so ServerCPU is all the work the
// server did for it, plus the publications and the gauge scrapes of that
// time: Net subtracts those, the deliveries at the steady state's CPU per
// delivery and the scrapes at their measured cost.
type stormPhase struct {
	Count          int64   `json:"count"`  // sockets dropped, or reconnects subscribed
	Failed         int64   `json:"failed"` // reconnects that failed
	Seconds        float64 `json:"seconds"`
	ClientSeconds  float64 `json:"client_seconds"` // until the load processes were done
	ServerCPU      float64 `json:"server_cpu_s"`
	Deliveries     float64 `json:"server_deliveries"`
	Scrapes        int64   `json:"scrapes"`
	PerConnUS      float64 `json:"server_cpu_us_per_conn"`
	NetPerConnUS   float64 `json:"server_cpu_us_per_conn_net"`
	PerSec         float64 `json:"per_s"`
	ConnectLatency latency `json:"connect_latency,omitempty"` // reconnect: dial to subscription ack
	Gauges         gauges  `json:"gauges"`
}

// gauges are the server's connection, subscription and channel gauges at
// the end of a phase, and what they must read.
type gauges struct {
	Connections   float64    `json:"connections"`
	Subscriptions float64    `json:"subscriptions"`
	Channels      float64    `json:"channels"`
	Want          [3]float64 `json:"want"`
	Settled       bool       `json:"settled"`
}

func (g gauges) String() string {
	ok := "ok"
	if !g.Settled {
		ok = fmt.Sprintf("NOT %v/%v/%v", g.Want[0], g.Want[1], g.Want[2])
	}
	return fmt.Sprintf("%v/%v/%v %s", g.Connections, g.Subscriptions, g.Channels, ok)
}

// summarize sets the stage's medians over its rounds.
func (st *stormStage) summarize() {
	med := func(f func(r *stormRound) float64) float64 {
		v := make([]float64, len(st.Rounds))
		for i := range st.Rounds {
			v[i] = f(&st.Rounds[i])
		}
		return median(v)
	}
	st.DisconnectUS = med(func(r *stormRound) float64 { return r.Disconnect.PerConnUS })
	st.DisconnectNetUS = med(func(r *stormRound) float64 { return r.Disconnect.NetPerConnUS })
	st.ReconnectUS = med(func(r *stormRound) float64 { return r.Reconnect.PerConnUS })
	st.ReconnectNetUS = med(func(r *stormRound) float64 { return r.Reconnect.NetPerConnUS })
	st.P99Ratio = med(func(r *stormRound) float64 { return r.P99Ratio })
}

// median of v (the mean of the middle two for an even count); 0 if empty.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// disconnectRange is the least and most net CPU per disconnect of the
// stages.
func (sr *stormResult) disconnectRange() (lo, hi float64) {
	for i, st := range sr.Stages {
		if i == 0 || st.DisconnectNetUS < lo {
			lo = st.DisconnectNetUS
		}
		hi = max(hi, st.DisconnectNetUS)
	}
	return lo, hi
}

func printStorm(w io.Writer, sr *stormResult) {
	fmt.Fprintf(w, "\nstorm: %d channels shared by everyone, %d observers stay; net = server CPU minus the phase's deliveries at the steady state's CPU per delivery and its gauge scrapes at %.0f µs each\n",
		sr.Channels, sr.Observers, sr.ScrapeCostUS)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "leaving\tround\tdisconnect s\tµs/disconnect\tnet µs\treconnect s\treconnects/s\tµs/reconnect\tnet µs\tfailed\tconnect p50 ms\tp99 ms\tgauges after drop\tafter reconnect\t")
	for _, st := range sr.Stages {
		for i, r := range st.Rounds {
			d, rc := r.Disconnect, r.Reconnect
			fmt.Fprintf(tw, "%d\t%d\t%.2f\t%.1f\t%.1f\t%.2f\t%.0f\t%.1f\t%.1f\t%d\t%.1f\t%.1f\t%s\t%s\t\n",
				st.Leaving, i+1, d.Seconds, d.PerConnUS, d.NetPerConnUS, rc.Seconds, rc.PerSec, rc.PerConnUS, rc.NetPerConnUS,
				rc.Failed, rc.ConnectLatency.P50, rc.ConnectLatency.P99, d.Gauges, rc.Gauges)
		}
	}
	tw.Flush()
	fmt.Fprintln(w, "publication latency on the observers (publisher send to receipt), steady vs storm")
	fmt.Fprintln(tw, "leaving\tround\tsteady count\tp50 ms\tp99 ms\tmax ms\tstorm count\tp50 ms\tp99 ms\tmax ms\tp99 storm/steady\tsteady server cores\tµs/delivery\t")
	for _, st := range sr.Stages {
		s := st.Steady
		for i, r := range st.Rounds {
			l := r.Storm.Latency
			fmt.Fprintf(tw, "%d\t%d\t%d\t%.1f\t%.1f\t%.1f\t%d\t%.1f\t%.1f\t%.1f\t%.2f\t%.2f\t%.2f\t\n",
				st.Leaving, i+1, s.Latency.Count, s.Latency.P50, s.Latency.P99, s.Latency.Max, l.Count, l.P50, l.P99, l.Max, r.P99Ratio,
				s.ServerCores, s.CPUPerDeliveryUS)
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "targets (issue #11): server CPU per disconnect ≤ %.0f µs, flat over the stages; storm p99 ≤ %.0fx steady\n", stormTargetDisconnectUS, stormTargetP99Ratio)
	for _, st := range sr.Stages {
		fmt.Fprintf(w, "  %d leaving: %.1f µs per disconnect (net; %.1f gross), %.1f per reconnect (net; %.1f gross), p99 ratio %.2f\n",
			st.Leaving, st.DisconnectNetUS, st.DisconnectUS, st.ReconnectNetUS, st.ReconnectUS, st.P99Ratio)
	}
}
