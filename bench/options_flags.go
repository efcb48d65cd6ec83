package main

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// parseFlags parses args (without the program name) into options: the
// scenario preset first, then every flag given explicitly.
func parseFlags(args []string, errOut io.Writer) (*options, error) {
	o := defaults()
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.Usage = func() {
		fmt.Fprintf(errOut, "usage: go run . [-scenario NAME] [flags] (in bench/)\nscenarios: %s\n\n", scenarioNames())
		fs.PrintDefaults()
	}
	var stages string
	fs.StringVar(&o.Scenario, "scenario", "", "preset: "+scenarioNames()+"; explicit flags override it")
	fs.StringVar(&o.Label, "label", "", "name of the run in the output and chart files (default: the scenario)")
	fs.StringVar(&o.URL, "url", o.URL, "WebSocket URL of a running server (loopback only)")
	fs.StringVar(&o.Admin, "admin", o.Admin, "internal listener of a running server (POST /publish, GET /metrics)")
	fs.IntVar(&o.PID, "pid", 0, "pid of a running server, for RSS and CPU from /proc")
	fs.StringVar(&o.Key, "key", o.Key, "publish key (Authorization: Bearer)")
	fs.BoolVar(&o.Spawn, "spawn", false, "start a server for the run (temp config, free loopback ports); ignores -url -admin -pid")
	fs.StringVar(&o.Target, "target", o.Target, "server to spawn: wsfan, or raw (the reference server of bench/rawserver: one write(2) per delivery)")
	fs.StringVar(&o.Reference, "reference", o.Reference, "raw: run the same load against the spawned wsfan, then against the raw reference server, and print both servers' CPU per delivery and their ratio")
	fs.StringVar(&o.ServerBin, "server-bin", "", "server binary for -spawn; empty: go build -server-src")
	fs.StringVar(&o.ServerSrc, "server-src", o.ServerSrc, "directory of the server module to build for -spawn without -server-bin (default: the nearest directory at or above the working directory whose go.mod is module wsfan)")
	fs.StringVar(&o.ServerCPUs, "server-cpus", "", "taskset CPU list for the spawned server (e.g. 0); empty: not pinned")
	fs.StringVar(&o.LoadCPUs, "load-cpus", "", "taskset CPU list for the load processes (e.g. 1); empty: not pinned")
	fs.DurationVar(&o.PingInterval, "ping-interval", o.PingInterval, "spawned server's ping_interval (idle_timeout becomes 3x); 0: the server's default (25s)")
	fs.Func("conflate", "spawned server's [conflation] channels: comma-separated patterns (PROTOCOL.md \"Conflation\")", func(v string) error {
		o.Conflate = nil
		for p := range strings.SplitSeq(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				o.Conflate = append(o.Conflate, p)
			}
		}
		return nil
	})
	fs.IntVar(&o.Book, "book", o.Book, "add an order book of N price levels a side to each publication's data (about 32 bytes a level: 50 levels a side make 3.2 KB); 0: none")
	fs.Float64Var(&o.Deflate, "deflate", o.Deflate, "share of the connections (0 to 1) that offer permessage-deflate and inflate what comes compressed; needs -frame-reader raw")
	fs.DurationVar(&o.ConflateInterval, "conflate-interval", o.ConflateInterval, "spawned server's [conflation] interval; 0: the server's default (100ms)")
	fs.StringVar(&o.ServerConfig, "server-config", o.ServerConfig, "TOML file merged over the spawned server's generated config (its tables merge key by key)")
	fs.Var(tomlLines{&o.ServerTOML}, "server-toml", "TOML merged over the spawned server's config after -server-config, e.g. 'compression = true' (repeatable: the values are joined by newlines)")
	fs.IntVar(&o.Conns, "conns", o.Conns, "connections")
	fs.StringVar(&stages, "stages", "", "comma-separated connection targets measured in turn (overrides -conns)")
	fs.Float64Var(&o.Ramp, "ramp", o.Ramp, "new connections per second, all load processes together")
	fs.IntVar(&o.Procs, "procs", o.Procs, "load processes (children of this one); each must stay under its fd limit")
	fs.IntVar(&o.SrcAddrs, "src-addrs", o.SrcAddrs, "loopback source addresses 127.0.0.2.. to spread connections over (~28K ports each)")
	fs.DurationVar(&o.DialTimeout, "dial-timeout", o.DialTimeout, "connect plus upgrade plus subscription-ack timeout")
	fs.StringVar(&o.FrameReader, "frame-reader", o.FrameReader, "client frame reader: raw (parses in nbio's read buffer, no copies) or nbio (websocket.Conn; to cross-check)")
	fs.IntVar(&o.InFlight, "in-flight", o.InFlight, "handshakes in flight per load process")
	fs.IntVar(&o.Tokens, "tokens", o.Tokens, "token channels token.T<k>.trade")
	fs.StringVar(&o.Dist, "dist", o.Dist, "token subscriptions: all, uniform or zipf")
	fs.Float64Var(&o.ZipfS, "zipf-s", o.ZipfS, "zipf exponent")
	fs.IntVar(&o.PerConn, "per-conn", o.PerConn, "distinct token channels per connection (uniform, zipf)")
	fs.BoolVar(&o.User, "user", o.User, "also subscribe each connection to user.<i>.favorites")
	fs.Float64Var(&o.Rate, "rate", o.Rate, "publications per second (hot: the first step's rate)")
	fs.IntVar(&o.Batch, "batch", o.Batch, "publications per POST /publish; 0: rate/100, at least 1")
	fs.Float64Var(&o.UserFrac, "user-frac", o.UserFrac, "share of publications to user channels")
	fs.DurationVar(&o.Duration, "duration", o.Duration, "publishing time")
	fs.BoolVar(&o.LastValue, "last-value", o.LastValue, "number the publications (data.n) and publish each token channel's last value alone at the end: every subscriber's last message must carry it")
	fs.BoolVar(&o.Companion, "companion", o.Companion, "after a -conflate run, the same load on the same channel without conflation, at a rate rising from 5/s by -hot-factor every -step to the most it sustains (up to -rate); prints both")
	fs.BoolVar(&o.NoConflation, "no-conflation", o.NoConflation, "run only that companion: the -conflate load without conflation, rising rate")
	fs.Float64Var(&o.HotFactor, "hot-factor", o.HotFactor, "hot: rate multiplier per step")
	fs.IntVar(&o.HotSteps, "hot-steps", o.HotSteps, "rate steps: multiply -rate by -hot-factor every -step, at most this many times, until deliveries fall behind (0: a constant -rate for -duration)")
	fs.DurationVar(&o.Step, "step", o.Step, "hot: step length")
	fs.IntVar(&o.Churn, "churn", o.Churn, "reconnects (close one connection, dial it again, resubscribe)")
	fs.Float64Var(&o.ChurnRate, "churn-rate", o.ChurnRate, "reconnects per second; 0: as fast as -churn-par allows")
	fs.IntVar(&o.ChurnPar, "churn-par", o.ChurnPar, "reconnects in flight per load process")
	fs.IntVar(&o.Observers, "observers", o.Observers, "storm: connections (the first ones) that stay through the storm; publication latency is measured on them")
	fs.IntVar(&o.StormRounds, "storm-rounds", o.StormRounds, "storm: disconnect-reconnect rounds per stage (0: no storm); -stages count the connections that leave")
	fs.DurationVar(&o.Settle, "settle", o.Settle, "wait after each ramp before measuring")
	fs.DurationVar(&o.Drain, "drain", o.Drain, "after publishing, wait at most this long for late deliveries (it also ends when they stop arriving for 2 s)")
	fs.DurationVar(&o.Interval, "interval", o.Interval, "time-series sampling period")
	fs.DurationVar(&o.Deadline, "deadline", o.Deadline, "hard limit for the whole run")
	fs.Uint64Var(&o.Seed, "seed", o.Seed, "random seed for subscriptions and publications")
	fs.BoolVar(&o.JSON, "json", false, "print the result as JSON instead of a table")
	fs.StringVar(&o.Report, "report", "", "directory for PNG charts and results.json")
	fs.BoolVar(&o.Quiet, "quiet", false, "no progress bar")
	fs.StringVar(&o.ChartsFrom, "charts-from", "", "render the charts of a saved JSON result into -report and exit (runs nothing)")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write the load process's CPU profile (with -procs 1) to this file")

	// The preset must be applied before the explicit flags, so find it
	// first and parse again.
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if o.Scenario != "" {
		preset, ok := scenarios[o.Scenario]
		if !ok {
			return nil, fmt.Errorf("unknown -scenario %q (want one of %s)", o.Scenario, scenarioNames())
		}
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		preset(o)
		// Parse again so that explicit flags override the preset; the
		// repeatable -server-toml collects its values afresh.
		if set["server-toml"] {
			o.ServerTOML = ""
		}
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if set["conns"] {
			o.Stages = nil // an explicit -conns replaces the preset's stages
		}
	}
	if stages != "" {
		st, err := parseStages(stages)
		if err != nil {
			return nil, err
		}
		o.Stages = st
	}
	if len(o.Stages) == 0 {
		o.Stages = []int{o.Conns}
	}
	o.Conns = o.Stages[len(o.Stages)-1]
	if o.Label == "" {
		o.Label = o.Scenario
		if o.Label == "" {
			o.Label = "custom"
		}
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	return o, nil
}

// parseStages parses "5000,10000,19000": increasing positive counts.
func parseStages(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("-stages: %q is not a positive count", f)
		}
		if len(out) > 0 && n <= out[len(out)-1] {
			return nil, fmt.Errorf("-stages: %d does not exceed %d; stages must increase", n, out[len(out)-1])
		}
		out = append(out, n)
	}
	return out, nil
}
