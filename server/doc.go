// Package server is one wsfan node: the nbio engine on the public listener
// (/ws, /healthz), the internal listener (POST /publish, /metrics), the
// admission of connections, the client commands, the heartbeat, the SIGHUP
// reload and the graceful drain. Connections are package conn's, the
// channels and the fan-out package hub's.
//
// # Concurrency
//
// Server's methods are safe for concurrent use. Upgrades and publish
// requests run on HTTP handler goroutines (nbio's for the public listener);
// a connection's commands run on its nbio executor, in order (the
// conn.Handler methods); one heartbeat goroutine visits a fiftieth of a
// second's connections per 20 ms tick. The registry's bucket locks and the
// settling queue's lock are leaves. See docs/LOCKS.md for the whole graph.
package server
