// Package loop is wsfan's server: the nbio engine on the public listener, the
// internal HTTP listener, client connections and their commands, the
// fan-out of publications, heartbeats and the graceful drain.
//
// # Concurrency
//
// nbio runs OnOpen/OnMessage/OnClose for one connection in order, and
// different connections in parallel on its task pool. Publications come from
// HTTP handler goroutines. A client's outbound bytes are appended to its own
// buffer (client.mu) and handed to the socket by one of GOMAXPROCS writer
// goroutines, so several pending frames leave in one write and no publisher
// ever waits on a socket.
//
// # Lock order
//
// A goroutine may take these locks only in this order (left before right),
// and never holds one across a call that takes an earlier one:
//
//	Server.pubMu (read) -> chanState.mu -> client.wmu -> client.mu -> writer.mu
//	client.mu -> index shard lock (inside index.Subscribe/Unsubscribe)
//
// A publisher holds one chanState.mu at a time. A subscribe to channels
// with history holds several, taken in channel-name order before client.mu
// (see lockHistoryChannels). chanShard.mu is only held to find or create a
// chanState and is released before chanState.mu is taken; the sweeper holds
// it and only TryLocks states. registry and seenPool locks are leaves.
// index locks are leaves: the index returns immutable snapshots and never
// calls back. No lock is held across a blocking socket operation: nbio's
// Conn.Write never blocks (it queues what the kernel does not take).
package loop
