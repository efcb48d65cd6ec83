package cluster

import (
	"errors"

	"github.com/nats-io/nats.go"

	"wsfan/index"
)

// Interest tells the bridge that the node gained (delta > 0) or lost
// (delta < 0) |delta| local subscribers of sub, a channel or pattern that
// satisfies index.ValidPattern ('*' and a last '>' are NATS wildcards with
// the same meaning, so sub maps to the subject prefix + sub as it is).
//
// In "per-channel" mode the bridge counts subscribers per sub, subscribes in
// NATS when the count leaves 0 and unsubscribes when it returns to 0 (or
// later, when a younger overlapping subscription still needs this one to own
// its channels; see subTable). In "all" mode it only counts.
//
// Interest never waits for NATS: it updates the count under the bridge's
// lock and queues the SUB or UNSUB for the bridge's subscriber goroutine,
// which sends them in order. (nats.go holds its connection lock while it
// dials during a reconnect, up to its 2 s connect timeout, so calling it
// here could stall the caller.) A publication reaches the node only once the
// server has processed the SUB; Flush waits for that. While NATS is
// unreachable nats.go records the change and sends it on reconnect.
//
// Interest may be called from any goroutine, also while the caller holds its
// own locks. An invalid sub, or a release of a sub with no subscribers, is a
// bug in the caller; it is logged and ignored.
func (b *Bridge) Interest(sub string, delta int) {
	if !index.ValidPattern(sub) {
		b.log.Error("Interest: invalid channel or pattern ignored", "sub", sub)
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.all {
		b.interest += delta
		return
	}
	for ; delta > 0; delta-- {
		if e, created := b.table.acquire(sub); created {
			b.queueLocked(subOp{e: e})
		}
	}
	for ; delta < 0; delta++ {
		drop, ok := b.table.release(sub)
		if !ok {
			b.log.Error("Interest: released a subscription that has no subscribers", "sub", sub)
			return
		}
		for _, e := range drop {
			if e.ns != nil {
				// Its losses move to lostRetired now, under mu, so
				// that Lost never goes down.
				if d, err := e.ns.Dropped(); err == nil {
					b.lostRetired += uint64(d)
				}
			}
			b.queueLocked(subOp{e: e, unsub: true})
		}
	}
}

// subOp is a change for the subscriber goroutine: subscribe e, unsubscribe
// e, or (e nil) close done once every earlier change was handed to nats.go.
type subOp struct {
	e     *subEntry
	unsub bool
	done  chan struct{}
}

// queueLocked appends op to the queue and wakes the subscriber goroutine.
// Once it has stopped (Close), nothing is queued: a subscription is marked
// ready with no NATS subscription, and a barrier is released at once.
func (b *Bridge) queueLocked(op subOp) {
	if b.opsStopped {
		finish(op)
		return
	}
	b.ops = append(b.ops, op)
	select {
	case b.opsReady <- struct{}{}:
	default:
	}
}

// finish releases whoever waits on op without applying it.
func finish(op subOp) {
	switch {
	case op.done != nil:
		close(op.done)
	case !op.unsub:
		close(op.e.ready)
	}
}

// runSubscriber is the subscriber goroutine: it applies the queued changes
// in order, so SUBs reach the server in subTable's id order.
func (b *Bridge) runSubscriber() {
	for {
		select {
		case <-b.opsReady:
		case <-b.stop:
			b.mu.Lock()
			ops := b.ops
			b.ops, b.opsStopped = nil, true
			b.mu.Unlock()
			for _, op := range ops {
				finish(op)
			}
			return
		}
		for {
			b.mu.Lock()
			if len(b.ops) == 0 {
				b.mu.Unlock()
				break
			}
			op := b.ops[0]
			b.ops[0] = subOp{}
			b.ops = b.ops[1:]
			b.mu.Unlock()
			b.apply(op)
		}
	}
}

// apply hands one change to nats.go, without holding mu.
func (b *Bridge) apply(op subOp) {
	switch {
	case op.done != nil:
		close(op.done)
	case !op.unsub:
		ns, err := b.nc.ChanSubscribe(b.prefix+op.e.key, b.inbox)
		if err != nil {
			b.logSubErr("cannot subscribe in NATS", op.e.key, err)
		}
		b.mu.Lock()
		op.e.ns = ns // nil on error: the entry counts, nothing arrives
		b.mu.Unlock()
		close(op.e.ready)
	default:
		b.mu.RLock()
		ns := op.e.ns
		b.mu.RUnlock()
		if ns != nil {
			if err := ns.Unsubscribe(); err != nil {
				b.logSubErr("cannot unsubscribe in NATS", op.e.key, err)
			}
		}
	}
}

// logSubErr logs a failed SUB or UNSUB; after Close it is expected and
// logged at debug level.
func (b *Bridge) logSubErr(msg, sub string, err error) {
	if errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, nats.ErrConnectionDraining) ||
		errors.Is(err, nats.ErrBadSubscription) {
		b.log.Debug(msg, "sub", sub, "err", err)
		return
	}
	b.log.Error(msg, "sub", sub, "err", err)
}
