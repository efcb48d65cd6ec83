// Package chanstate is what a channel keeps between publications: its last
// seq, the epoch that names its numbering, and the ring of its recent
// publications (history) with the memory budget all rings share.
//
// A State sits in the channel's index entry (index.Channel's State) and is
// guarded by the entry's lock: the publisher holds it across the fan-out,
// so seqs are handed out in order and a ring never sees two writers. The
// Budget and Epochs are safe for concurrent use; nothing here takes a lock
// of its own.
package chanstate
