// Package cluster is wsfan's cluster mode: it connects a node to NATS so that
// a publication made on any node, or by any NATS publisher, reaches the
// subscribers of every node. Channel C travels on the subject prefix + C, the
// publication's data, verbatim JSON, as the body. Two modes share the
// connection code (conn.go):
//
//   - Bridge (core NATS, Connect; bridge.go): Publish returns once the NATS
//     server has the batch, Deliver hands over what arrives, the node numbers
//     channels itself; Interest keeps NATS subscriptions in step.
//   - Stream (JetStream, ConnectStream; jetstream*.go): one stream holds
//     every channel. Publish returns once JetStream stored every
//     publication; DeliverSeq hands over each with the seq every node gives
//     it; Epoch names the stream; Since and Position read it for recovery.
//
// # Concurrency
//
// Every exported method may be called from any goroutine; only Publish,
// Flush, Since, Position and Close wait on the network. Bridge calls Deliver
// from GOMAXPROCS workers, a channel always from the same one; Stream calls
// DeliverSeq from its one goroutine, in stream order. Neither holds a lock
// of this package during those calls, which may take the caller's locks and
// call Interest, not Close. Lock order: the caller's locks -> Bridge.mu ->
// nats.go's Subscription.mu; Stream's per-channel publish locks (in channel
// order) -> its seq cache's shard locks. docs/CLUSTER.md has the rest.
package cluster
