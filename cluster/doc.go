// Package cluster is wsfan's cluster mode: it connects a node to NATS so that
// a publication made on any node, or by any NATS publisher, reaches the
// subscribers of every node.
//
// A channel C travels on the NATS subject prefix + C, with the publication's
// data, verbatim JSON, as the message body. Bridge.Publish sends publications
// to NATS (the publish API uses it instead of delivering locally) and returns
// once the NATS server confirmed receipt. Every message that arrives from
// NATS, the node's own publications included, goes to the Deliver function
// given to Connect, which hands it to the local fan-out. Bridge.Interest
// keeps the NATS subscriptions in step with the local ones ("per-channel"
// mode), or the bridge takes everything under the prefix ("all" mode).
// docs/CLUSTER.md describes deployment, outages and measured figures.
//
// # Concurrency
//
// Every exported method of Bridge may be called from any goroutine, and none
// waits on the network except Publish, Flush and Close. Interest only records
// the change; the bridge's subscriber goroutine sends the SUBs and UNSUBs in
// order. Connected and Status read state that nats.go's connection handlers
// keep, so a health check never waits on nats.go's connection lock (nats.go
// holds it while it dials during an outage).
//
// Deliver is called from the bridge's goroutines: one dispatcher, which reads
// the messages of all subscriptions in the order the connection received
// them, and GOMAXPROCS workers. A channel is always delivered by the same
// worker, so calls for one channel never overlap and come in NATS order for
// the subject. NATS keeps the order of each publisher's messages on a
// subject; a subject is one channel, and the caller numbers the channel's
// publications (seq) in the order Deliver hands them over. The goroutine
// count, 2 + GOMAXPROCS, does not grow with the number of channels or
// subscriptions.
//
// # Lock order
//
// Bridge.mu is a leaf for callers: it is held only for map, slice and counter
// work, never while calling Deliver or a nats.go method that can wait, so
// Interest may be called under the caller's own locks (a client's mutex), and
// Deliver may take the caller's locks and call Interest. Under Bridge.mu the
// bridge only reads nats.go subscription counters (Subscription.Dropped,
// which takes that subscription's lock). nats.go never calls into this
// package while holding its own locks: its handlers run on its callback
// goroutine, and messages reach the inbox through a non-blocking channel
// send.
//
//	caller's locks (client.mu, ...) -> Bridge.mu -> nats.go Subscription.mu
package cluster
