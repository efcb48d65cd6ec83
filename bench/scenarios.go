package main

import "time"

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
