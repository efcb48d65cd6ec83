// Command bench is wsfan's load generator: it opens many WebSocket
// connections to a wsfan server on this machine's loopback, subscribes
// them, publishes through the admin API and reports what the server and
// the clients did: connect rate, server RSS and CPU per connection and
// per delivery, socket writes, loss and latency. It is a module of its
// own (wsfan/bench): it imports no wsfan package and speaks only the wire
// protocol (PROTOCOL.md). Every run targets loopback only, is bounded by
// -deadline and stops by itself.
//
// Usage, the scenarios, how it works and what it measures: README.md in
// this directory. The figures: docs/BENCHMARKS.md.
//
// Concurrency: the coordinator (run.go) is single-goroutine; the
// publisher's counters are atomic and its per-channel counts under its
// mutex. A load process (this one, or a child with -procs) runs one
// command loop (procs.go), and its connections live on one nbio client
// engine: the receive accounting is striped over shards, each under its
// own mutex, and is updated from nbio's handler goroutines (in order per
// connection). The coordinator and the load processes exchange commands
// and snapshots (channels, or JSON lines on a child's stdin and stdout);
// in one process they also share the options, read-only.
package main
