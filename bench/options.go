package main

import "time"

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
	PingInterval time.Duration `json:"ping_interval,omitempty"`
	// Deflate is the share of connections (0 to 1) that offer
	// permessage-deflate; they inflate what comes compressed.
	Deflate float64 `json:"deflate,omitempty"`
	// Book adds an order book of Book price levels a side (about 32
	// bytes a level) to every publication's data; 0: none.
	Book             int           `json:"book,omitempty"`
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
