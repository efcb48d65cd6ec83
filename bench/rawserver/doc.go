// Package rawserver is the raw reference server of the load benchmarks
// (issue #11): the least a server can do per delivery on this machine, so
// that wsfan's CPU per delivery can be put beside it in one run. It
// speaks enough of PROTOCOL.md for the load generator (GET /ws, POST
// /publish, /metrics under wsfan's names, /healthz; bench/README.md has
// the details). A publication's message frame is built once and the
// publishing goroutine writes it to each subscriber with one net.Conn
// Write: one write(2), no buffering, no coalescing, no pings, no limits.
// It is a yardstick, not a server.
//
// Concurrency: a goroutine per connection reads its commands. A
// channel's mutex is held from taking the seq to the last write of that
// publication, so every subscriber receives a channel's publications in
// seq order; a connection's write mutex keeps its frames whole. Lock
// order: Server.mu, then channel.mu, then conn.wmu; Server.mu is never
// held across a write.
package rawserver
