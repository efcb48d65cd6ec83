// Package rawserver is the raw reference server of the load benchmarks
// (issue #11): the least a server can do per delivery on this machine, so
// that wsfan's CPU per delivery can be put beside it in one run.
//
// It speaks enough of PROTOCOL.md for the load generator: GET /ws upgrades
// to a WebSocket (HTTP/1.1, no extensions, no auth); client frames
// (masked) carry subscribe, unsubscribe and heartbeat; POST /publish on
// the admin listener takes the same bearer key and body (one publication
// or an array) and answers {"accepted":N}; /metrics exports the gauges and
// counters the load generator scrapes, under wsfan's names
// (wsfan_connections, wsfan_subscriptions, wsfan_channels,
// wsfan_socket_writes_total, wsfan_deliveries_total, wsfan_bytes_out_total,
// ...); /healthz answers ok.
//
// The one thing it measures: a publication gets its channel's next seq,
// its message frame is built once, and the publishing goroutine writes
// that frame to each subscriber with one net.Conn Write, which on a
// socket with room is exactly one write(2): no buffering, no coalescing,
// no fan-out across goroutines. It has a goroutine per connection (it
// only reads commands), no pings, no idle timeout, no limits, no
// wildcards, no slow-consumer handling: a subscriber that stops reading
// eventually blocks the publications of its channels. It is a yardstick,
// not a server.
//
// Concurrency: a channel's mutex is held from taking the seq to the last
// write of that publication, so every subscriber receives a channel's
// publications in seq order; a connection's write mutex keeps its frames
// whole. Lock order: Server.mu, then channel.mu, then conn.wmu; Server.mu
// is never held across a write.
package rawserver
