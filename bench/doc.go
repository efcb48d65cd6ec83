// Command bench is wsfan's load generator: it opens many WebSocket
// connections to a wsfan server on this machine's loopback, subscribes
// them, publishes through the admin API and reports what the server and
// the clients did. It is a module of its own (wsfan/bench): it imports no
// wsfan package and speaks only the wire protocol (PROTOCOL.md), so its
// dependencies (plots, histograms, a progress bar) stay out of the
// server's go.mod.
//
// Usage:
//
//	cd bench   # its own module, wsfan/bench
//	go run . -scenario seed -spawn -server-cpus 0 -load-cpus 1 -report ../docs/img
//	go run . -url ws://127.0.0.1:8080/ws -admin http://127.0.0.1:9090 -pid $(pidof wsfan) -conns 2000 -rate 50 -duration 10s
//
// Scenarios (-scenario; explicit flags override a preset): seed (10K
// connections on the same 5 channels, 25 publications/s), tokens (3 zipf
// token channels of 1,000 plus the user's own, 2,000 publications/s), hot
// (one channel, the rate rises until deliveries fall behind), churn (10K
// reconnects over 2K connections, then the gauges must read zero), idle
// (subscribed idle connections at 5K, 10K and 19K: RSS per connection),
// uniform (3 uniform token channels of 1,000, ~25K deliveries/s, nothing
// to coalesce; with -reference raw also against the raw server), storm
// (9K connections drop their sockets at once and reconnect while 100
// observers measure publication latency: CPU per disconnect and per
// reconnect), ticker (one conflated channel at 1,000/s, checked against
// PROTOCOL.md's conflation rules, then the same channel unconflated at a
// rising rate) and smoke (the integration test's 200 connections for 2 s).
//
// The raw reference server (bench/rawserver) is the least a server can
// do per delivery: one prebuilt frame, one write(2) per subscriber. This
// binary runs it as -raw-server; -target raw spawns it instead of wsfan.
//
// How it works. The connections live on one nbio client engine per load
// process: no goroutine per connection. nbio's websocket.Dialer cannot set
// a local address, so dial.go does what it does with nbhttp.ClientConn's
// Dial hook set to a net.Dialer bound to 127.0.0.2, 127.0.0.3, ... (each
// source address has its own ~28K ephemeral ports). After the upgrade,
// frames are read by wsframe.go's rawConn in nbio's read buffer, without
// copies: nbio's websocket.Conn copies every read and every message, which
// made the load generator, not the server, the limit at many frames per
// read (-frame-reader nbio keeps it, to cross-check). -procs N re-executes
// this program as N child load processes (each under the per-process file
// limit); they take every N-th connection, take commands as JSON lines on
// stdin and answer with snapshots on stdout. The parent (the coordinator)
// runs the publisher, samples the server's /proc/<pid>/{stat,status,io}
// and admin /metrics every -interval, and merges the children's
// HdrHistograms. -spawn builds the server from the repository root
// (-server-src; or takes -server-bin) and starts it with a temp config on
// free loopback ports, pinned with taskset to -server-cpus; -load-cpus
// re-executes the load under taskset.
//
// What it measures: connect rate, connect-to-ack latency and failures;
// server RSS (KB per connection) and CPU (cores, µs per delivery); the
// server's socket writes per second (its wsfan_socket_writes_total, or
// /proc/<pid>/io syscw) and deliveries per write; the clients' reads per
// second and frames per read; deliveries per second against what the
// accepted publications owe; loss, from per-channel seq gaps and from
// per-channel counts against the accepted publications; end-to-end latency
// from the publisher's send time in data.t to the client's receipt, as
// HdrHistogram percentiles; closes the clients did not ask for (1008 slow
// consumer, ...); the load processes' own CPU, so that a run can say when
// the load, not the server, was the bottleneck.
//
// Concurrency: the coordinator is single-goroutine; a worker's receive
// accounting is striped over shards, each under its own mutex, and is
// updated from nbio's handler goroutines (in order per connection).
//
// Every run targets loopback only (-url and -admin must be loopback), is
// bounded by -deadline and stops by itself. Wrap runs in
// flock /tmp/wsfan-bench.lock so that no two benchmarks share the machine.
package main
