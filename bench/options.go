package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// defaultKey is the development publish key of config.toml.
const defaultKey = "dev-only-publish-key-change-me"

// Subscription distributions over the token channels.
const (
	distAll     = "all"     // every connection subscribes to every token
	distUniform = "uniform" // per-conn distinct tokens, uniform popularity
	distZipf    = "zipf"    // per-conn distinct tokens, zipf popularity
)

// options is one load run, from flags and a scenario preset. Zero values
// mean "not used" unless a comment says otherwise.
type options struct {
	Scenario string `json:"scenario"`
	Label    string `json:"label"`

	// Target: a running server, or one spawned by the run.
	URL        string `json:"url"`   // WebSocket URL, ws://127.0.0.1:8080/ws
	Admin      string `json:"admin"` // internal listener, http://127.0.0.1:9090
	PID        int    `json:"pid"`   // server pid for /proc stats; 0: none
	Key        string `json:"-"`     // publish key
	Spawn      bool   `json:"spawn"`
	Target     string `json:"target"`              // the spawned server: wsfan or raw (targetWsfan, targetRaw)
	Reference  string `json:"reference,omitempty"` // "raw": run against wsfan, then the raw server (compare.go)
	ServerBin  string `json:"server_bin"`
	ServerSrc  string `json:"-"`           // server module directory to build when ServerBin is empty; "": found upwards
	ServerCPUs string `json:"server_cpus"` // taskset list for the spawned server
	LoadCPUs   string `json:"load_cpus"`   // taskset list for the load processes

	// The spawned server's config (servercfg.go): PingInterval 0 keeps the
	// server's default; Conflate lists the [conflation] patterns (none:
	// no table) and ConflateInterval its interval (0: the server's
	// default, 100ms); ServerConfig is a TOML file and ServerTOML TOML
	// text merged over the generated config, in that order.
	PingInterval     time.Duration `json:"ping_interval,omitempty"`
	Conflate         []string      `json:"conflate,omitempty"`
	ConflateInterval time.Duration `json:"conflate_interval,omitempty"`
	ServerConfig     string        `json:"server_config,omitempty"`
	ServerTOML       string        `json:"server_toml,omitempty"`
	// Companion: after the run, the same connections and channel without
	// conflation at a rising rate, to the most it sustains (compare.go);
	// NoConflation: that run only.
	Companion    bool `json:"companion,omitempty"`
	NoConflation bool `json:"no_conflation,omitempty"`

	// Connections.
	Conns       int           `json:"conns"`
	Stages      []int         `json:"stages,omitempty"` // connection targets, measured in turn
	Ramp        float64       `json:"ramp"`             // new connections per second, all procs together
	Procs       int           `json:"procs"`            // load processes
	SrcAddrs    int           `json:"src_addrs"`        // loopback source addresses 127.0.0.2, ...
	DialTimeout time.Duration `json:"dial_timeout"`
	FrameReader string        `json:"frame_reader"` // raw (the bench's own) or nbio (websocket.Conn)
	InFlight    int           `json:"in_flight"`    // handshakes in flight per process

	// Subscriptions.
	Tokens  int     `json:"tokens"`   // token channels token.T<k>.trade
	Dist    string  `json:"dist"`     // all, uniform, zipf
	ZipfS   float64 `json:"zipf_s"`   // zipf exponent (> 0)
	PerConn int     `json:"per_conn"` // distinct token channels per connection (dist uniform, zipf)
	User    bool    `json:"user"`     // also user.<i>.favorites

	// Publications.
	Rate     float64       `json:"rate"`      // publications per second; 0: none
	Batch    int           `json:"batch"`     // publications per POST; 0: rate/100, at least 1
	UserFrac float64       `json:"user_frac"` // share of publications to user channels
	Duration time.Duration `json:"duration"`  // publishing time (per hot step: Step)
	// LastValue numbers the publications in data.n and, after publishing,
	// publishes one more value on each token channel alone: every
	// subscriber's last message must carry it (conflation delivers the
	// last publication of a burst).
	LastValue bool `json:"last_value"`

	// hot: the rate starts at Rate and is multiplied by HotFactor every
	// Step until deliveries fall behind, up to HotSteps steps.
	HotFactor float64       `json:"hot_factor"`
	HotSteps  int           `json:"hot_steps"`
	Step      time.Duration `json:"step"`

	// churn: reconnects, each closing one open connection and dialing it
	// again (with its subscriptions), ChurnRate per second (0: as fast as
	// ChurnPar workers go).
	Churn     int     `json:"churn"`
	ChurnRate float64 `json:"churn_rate"`
	ChurnPar  int     `json:"churn_par"`

	// storm: StormRounds times per stage, every connection but the first
	// Observers (global indices) drops its socket at once and dials again
	// (storm.go); the stages count the connections that leave, the
	// observers come on top. 0 rounds: no storm.
	Observers   int `json:"observers"`
	StormRounds int `json:"storm_rounds"`

	Settle   time.Duration `json:"settle"`   // wait after a ramp before measuring RSS
	Drain    time.Duration `json:"drain"`    // how long to wait for late deliveries
	Interval time.Duration `json:"interval"` // sampling period of the time series
	Deadline time.Duration `json:"deadline"` // hard limit for the whole run
	Seed     uint64        `json:"seed"`     // subscription and publication randomness

	JSON   bool   `json:"-"`
	Report string `json:"-"` // directory for charts and results.json
	Quiet  bool   `json:"-"` // no progress bar
	// CPUProfile writes this process's CPU profile (coordinator, publisher
	// and, with -procs 1, the load) for the whole run.
	CPUProfile string `json:"-"`
	// ChartsFrom re-renders the charts of a saved result (-json output or
	// -report's <label>.json) into -report, and runs nothing.
	ChartsFrom string `json:"-"`
}

// scenarios are the presets of -scenario. A preset sets defaults; flags
// given explicitly win.
var scenarios = map[string]func(o *options){
	// seed: the seed's workload, 10K connections on the same 5 channels,
	// 25 publications/s = 250K deliveries/s.
	"seed": func(o *options) {
		o.Conns, o.Tokens, o.Dist, o.User = 10000, 5, distAll, false
		o.Rate, o.Batch, o.Duration = 25, 1, 10*time.Second
	},
	// tokens: 3 zipf token channels of 1,000 plus the user's own channel,
	// 2,000 publications/s spread by the same popularity.
	"tokens": func(o *options) {
		o.Conns, o.Tokens, o.Dist, o.ZipfS, o.PerConn, o.User = 10000, 1000, distZipf, 1.0, 3, true
		o.Rate, o.UserFrac, o.Duration = 2000, 0.1, 10*time.Second
	},
	// hot: one channel, a rising publication rate until deliveries fall
	// behind.
	"hot": func(o *options) {
		o.Conns, o.Tokens, o.Dist, o.User = 10000, 1, distAll, false
		o.Rate, o.HotFactor, o.HotSteps, o.Step = 5, 1.5, 16, 3*time.Second
	},
	// churn: a connect/disconnect storm over 2,000 subscribed connections,
	// then everything leaves and the gauges must read zero.
	"churn": func(o *options) {
		o.Conns, o.Tokens, o.Dist, o.ZipfS, o.PerConn, o.User = 2000, 1000, distZipf, 1.0, 3, true
		o.Churn, o.ChurnPar = 10000, 64
		o.Interval = 250 * time.Millisecond // the storm lasts ~2 s
	},
	// idle: subscribed idle connections at 5K, 10K and 19K (two load
	// processes: one holds at most ~19,9xx sockets under a 20,000 fd cap).
	"idle": func(o *options) {
		o.Stages, o.Procs = []int{5000, 10000, 19000}, 2
		o.Tokens, o.Dist, o.ZipfS, o.PerConn, o.User = 1000, distZipf, 1.0, 3, true
		o.Settle = 3 * time.Second
	},
	// uniform: 10K connections on 3 distinct token channels each of 1,000,
	// uniform popularity (~30 subscribers per channel), one publication
	// per POST at 833/s: ~25K deliveries/s, each connection receiving
	// 2.5 messages/s, so that nothing coalesces. With -reference raw the
	// same load runs against the raw server too (issue #11's 1.1x).
	"uniform": func(o *options) {
		o.Conns, o.Tokens, o.Dist, o.PerConn, o.User = 10000, 1000, distUniform, 3, false
		o.Rate, o.Batch, o.Duration = 833, 1, 10*time.Second
	},
	// storm: 9,000 connections on the same 5 channels plus 100 observers,
	// 10 publications/s to those channels throughout; after 5 s of steady
	// state every connection but the observers drops its socket at once
	// and reconnects (issue #11). -stages 1000,4000,9000,19000 -procs 2
	// gives the curve.
	"storm": func(o *options) {
		o.Stages, o.Observers, o.StormRounds = []int{9000}, 100, 1
		o.Tokens, o.Dist, o.User = 5, distAll, false
		o.Rate, o.Batch, o.Duration = 10, 1, 5*time.Second
	},
	// ticker: 10,000 connections on one conflated channel (every 100 ms),
	// 1,000 publications/s, one per POST, numbered; then the same channel
	// without conflation at a rising rate (issue #16).
	"ticker": func(o *options) {
		o.Conns, o.Tokens, o.Dist, o.User = 10000, 1, distAll, false
		o.Rate, o.Batch, o.Duration, o.LastValue = 1000, 1, 10*time.Second, true
		o.Conflate, o.ConflateInterval, o.Companion = []string{tokenChannel(0)}, 100*time.Millisecond, true
		o.Step = 3 * time.Second // the companion's rate steps, as hot's
	},
	// smoke: the integration test's small end-to-end run.
	"smoke": func(o *options) {
		o.Conns, o.Tokens, o.Dist, o.ZipfS, o.PerConn, o.User = 200, 20, distZipf, 1.0, 3, true
		o.Rate, o.UserFrac, o.Duration, o.Settle = 100, 0.2, 2*time.Second, 200*time.Millisecond
	},
}

func scenarioNames() string {
	return "seed, tokens, hot, churn, idle, uniform, storm, ticker, smoke"
}

// defaults returns the options every scenario starts from.
func defaults() *options {
	return &options{
		URL:         "ws://127.0.0.1:8080/ws",
		Admin:       "http://127.0.0.1:9090",
		Key:         defaultKey,
		Target:      targetWsfan,
		Conns:       1000,
		Ramp:        5000,
		Procs:       1,
		SrcAddrs:    4,
		DialTimeout: 10 * time.Second,
		FrameReader: "raw",
		InFlight:    256,
		Tokens:      10,
		Dist:        distZipf,
		ZipfS:       1.0,
		PerConn:     3,
		HotFactor:   1.5,
		Step:        2 * time.Second,
		ChurnPar:    64,
		Settle:      time.Second,
		Drain:       30 * time.Second,
		Interval:    time.Second,
		Deadline:    5 * time.Minute,
		Seed:        1,
	}
}

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

// validate rejects nonsense, naming the flag.
func (o *options) validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if o.Conns <= 0 {
		bad("-conns must be positive")
	}
	if o.Ramp <= 0 {
		bad("-ramp must be positive")
	}
	if o.Procs < 1 || o.Procs > 16 {
		bad("-procs must be in [1, 16]")
	}
	if o.SrcAddrs < 1 || o.SrcAddrs > 250 {
		bad("-src-addrs must be in [1, 250]")
	}
	if o.InFlight < 1 {
		bad("-in-flight must be positive")
	}
	if o.FrameReader != "raw" && o.FrameReader != "nbio" {
		bad("-frame-reader must be raw or nbio, not %q", o.FrameReader)
	}
	switch o.Dist {
	case distAll:
		if o.Tokens > 90 {
			bad("-dist all with -tokens %d passes max_subscriptions_per_conn (100)", o.Tokens)
		}
	case distUniform, distZipf:
		if o.PerConn < 0 || o.PerConn > o.Tokens {
			bad("-per-conn must be in [0, -tokens]")
		}
	default:
		bad("-dist must be all, uniform or zipf, not %q", o.Dist)
	}
	if o.Tokens < 0 {
		bad("-tokens must not be negative")
	}
	if o.Dist == distZipf && o.ZipfS <= 0 {
		bad("-zipf-s must be positive")
	}
	if o.Rate < 0 || o.UserFrac < 0 || o.UserFrac > 1 {
		bad("-rate must not be negative and -user-frac must be in [0, 1]")
	}
	if o.Rate > 0 && o.UserFrac < 1 && o.Tokens == 0 {
		bad("-rate needs -tokens (or -user-frac 1)")
	}
	if o.UserFrac > 0 && !o.User {
		bad("-user-frac needs -user")
	}
	if o.Rate > 0 && o.Duration <= 0 && o.HotSteps == 0 {
		bad("-rate needs -duration")
	}
	if o.HotSteps > 0 && (o.HotFactor <= 1 || o.Step <= 0) {
		bad("-hot-steps needs -hot-factor > 1 and -step > 0")
	}
	if o.Churn < 0 || o.ChurnPar < 1 {
		bad("-churn must not be negative and -churn-par must be positive")
	}
	if o.StormRounds < 0 || o.Observers < 0 {
		bad("-storm-rounds and -observers must not be negative")
	}
	if o.isStorm() && (o.HotSteps > 0 || o.Churn > 0) {
		bad("-storm-rounds does not combine with -hot-steps or -churn")
	}
	if o.isStorm() && o.Rate > 0 && o.Observers == 0 {
		bad("-storm-rounds with -rate needs -observers: latency is measured on connections that stay")
	}
	if o.Interval < 100*time.Millisecond {
		bad("-interval must be at least 100ms")
	}
	if o.ChartsFrom != "" && o.Report == "" {
		bad("-charts-from needs -report")
	}
	if o.PingInterval < 0 || o.ConflateInterval < 0 {
		bad("-ping-interval and -conflate-interval must not be negative")
	}
	switch o.Target {
	case targetWsfan:
	case targetRaw:
		if !o.Spawn {
			bad("-target raw needs -spawn (the raw server is run by this program)")
		}
	default:
		bad("-target must be wsfan or raw, not %q", o.Target)
	}
	switch o.Reference {
	case "":
	case targetRaw:
		if !o.Spawn || o.Target != targetWsfan {
			bad("-reference raw needs -spawn and -target wsfan")
		}
	default:
		bad("-reference must be raw or empty, not %q", o.Reference)
	}
	if len(o.Conflate) > 0 && (o.Target == targetRaw || o.Reference != "") {
		bad("-conflate: the raw reference server does not conflate")
	}
	if (o.Companion || o.NoConflation) && (len(o.Conflate) == 0 || o.Rate <= 0 || o.isHot() || o.Reference != "") {
		bad("-companion and -no-conflation need -conflate and a constant -rate (no -hot-steps, no -reference)")
	}
	if o.ConflateInterval > 0 && len(o.Conflate) == 0 {
		bad("-conflate-interval needs -conflate")
	}
	serverFlags := o.PingInterval > 0 || len(o.Conflate) > 0 || o.ConflateInterval > 0 || o.ServerConfig != "" || o.ServerTOML != ""
	if serverFlags && !o.Spawn {
		bad("-ping-interval, -conflate, -conflate-interval, -server-config and -server-toml configure a spawned server: they need -spawn")
	}
	if o.Spawn {
		if _, err := serverConfig(1, 2, 0, o); err != nil {
			bad("%v", err)
		}
	}
	if !o.Spawn {
		if err := checkLoopbackURL(o.URL, "ws"); err != nil {
			bad("-url: %v", err)
		}
		if err := checkLoopbackURL(o.Admin, "http"); err != nil {
			bad("-admin: %v", err)
		}
	}
	return errors.Join(errs...)
}

// checkLoopbackURL accepts scheme://<loopback IP or localhost>:port/...:
// load runs target this machine's loopback only.
func checkLoopbackURL(raw, scheme string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("cannot parse %q: %w", raw, err)
	}
	if u.Scheme != scheme {
		return fmt.Errorf("%q: scheme must be %s", raw, scheme)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%q: host must be a loopback address", raw)
	}
	return nil
}

// isStorm reports whether the run is a disconnect storm (storm.go).
func (o *options) isStorm() bool { return o.StormRounds > 0 }

// totalConns is the connections a stage of n holds: a storm's observers
// come on top of its stages.
func (o *options) totalConns(n int) int {
	if o.isStorm() {
		return o.Observers + n
	}
	return n
}

// isHot reports whether the run steps the publication rate up.
func (o *options) isHot() bool { return o.HotSteps > 0 && o.Rate > 0 }
