// Package hub is the publish path: the channel index, each channel's seq
// and history (chanstate), subscriptions as connections change them, and
// the fan-out of a publication, encoded once, to every subscriber.
//
// # Concurrency
//
// Every method is safe for concurrent use. A publisher holds the hub's
// read lock (Close waits for it), the channel's entry lock for the whole
// fan-out (seq order is the order every subscriber sees) and the read locks
// of the patterns that match, taken in index order; under them it takes
// each subscriber's Conn lock to append the frame, and never waits on a
// socket. Subscribe and Unsubscribe lock the entries they change in the
// same order, then the Conn: no publication of a channel reaches a
// connection before its subscription ack or after its unsubscription ack.
// Lock order: Hub.pubMu -> entries (channels before patterns, each by
// name) -> conn.Conn -> the conn writer; see docs/LOCKS.md.
package hub
