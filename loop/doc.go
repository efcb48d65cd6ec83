// Package loop is wsfan's server: the nbio engine on the public listener, the
// internal HTTP listener, client connections and their commands, the
// fan-out of publications, heartbeats and the graceful drain.
//
// # Concurrency
//
// nbio's poller reads each socket and hands the bytes to the client's frame
// reader (client.Parse); whole messages run on the connection's nbio
// executor, in order. Publications come from HTTP handler goroutines and
// NATS workers. A client's outbound bytes are appended to its own buffer
// (client.mu) and handed to the socket by one of GOMAXPROCS writer
// goroutines, so several pending frames leave in one write and no publisher
// ever waits on a socket.
//
// # Lock order
//
// A goroutine may take these locks only in this order (left before right):
//
//	Server.pubMu (read) -> channel entries -> client.mu -> writer.mu
//	client.wmu -> client.rmu -> client.mu;  client.wmu -> nbio.Conn's lock
//
// Channel entries (index.Channel) are taken in index order: channels before
// patterns, each by name; a publisher holds one channel and the read locks
// of its matching patterns. See docs/LOCKS.md.
package loop
