package cluster

import (
	"encoding/json"
	"log/slog"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/nats-io/nats.go"

	"wsfan/index"
)

// start runs the subscriber goroutine (Interest), the dispatcher and the
// delivery workers.
//
// Every NATS subscription feeds the one inbox (nats.go's ChanSubscribe, which
// starts no goroutine per subscription), so the number of goroutines is
// 2 + GOMAXPROCS however many channels the node holds. The dispatcher reads
// the inbox in the order the connection received the messages, drops what
// is invalid or a duplicate copy (subTable), and hands each message to the
// worker chosen by its channel's hash: one channel always goes to the same
// worker, so its order is kept, and different channels are delivered in
// parallel.
func (b *Bridge) start() {
	b.wg.Go(b.runSubscriber)
	for _, w := range b.workers {
		b.wg.Go(func() {
			for m := range w {
				b.deliverMsg(m)
			}
		})
	}
	b.wg.Go(func() {
		defer func() {
			for _, w := range b.workers {
				close(w)
			}
		}()
		for {
			select {
			case m := <-b.inbox:
				b.route(m)
			case <-b.stop:
				for { // deliver what was received before Close
					select {
					case m := <-b.inbox:
						b.route(m)
					default:
						return
					}
				}
			}
		}
	})
}

// route checks a message's subject and ownership and queues it for its
// channel's worker; it blocks while that worker's queue is full, and the
// inbox absorbs the wait.
func (b *Bridge) route(m *nats.Msg) {
	channel, ok := strings.CutPrefix(m.Subject, b.prefix)
	if !ok || !index.ValidChannel(channel) {
		b.drop("subject is not a valid channel", m.Subject)
		return
	}
	if !b.all {
		key := strings.TrimPrefix(m.Sub.Subject, b.prefix)
		for {
			b.mu.RLock()
			owner, wait := b.table.owns(m.Sub, key, channel)
			b.mu.RUnlock()
			if wait != nil {
				<-wait // its ChanSubscribe is returning; rarely taken
				continue
			}
			if !owner {
				b.duplicates.Add(1)
				return
			}
			break
		}
	}
	b.workers[fnv32(channel)%uint32(len(b.workers))] <- m
}

// deliverMsg checks the body and calls Deliver.
func (b *Bridge) deliverMsg(m *nats.Msg) {
	data, ok := validBody(m.Data)
	if !ok {
		b.drop("body is not valid UTF-8 JSON", m.Subject)
		return
	}
	b.in.Add(1)
	b.deliver(m.Subject[len(b.prefix):], data)
}

// trimJSONSpace cuts JSON white space (space, tab, CR, LF) from both ends.
func trimJSONSpace(b []byte) []byte {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// drop counts a discarded message and logs at most one line per
// dropLogInterval.
func (b *Bridge) drop(reason, subject string) { b.drops.drop(b.log, reason, subject) }

// dropCounter counts the messages a node discards (invalid subject or
// body) and logs them, at most one line per dropLogInterval.
type dropCounter struct {
	n     atomic.Uint64 // all drops
	since atomic.Uint64 // drops since the last log line
	log   logLimiter
}

func (d *dropCounter) drop(log *slog.Logger, reason, subject string) {
	d.n.Add(1)
	d.since.Add(1)
	if !d.log.Limit() {
		return
	}
	n := d.since.Swap(0)
	if len(subject) > 200 {
		subject = subject[:200] + "..."
	}
	log.Warn("NATS message dropped", "reason", reason, "subject", subject,
		"dropped_since_last_line", n, "dropped_total", d.n.Load())
}

// validBody returns data with surrounding JSON white space trimmed, and
// whether it is valid UTF-8 JSON (what browsers can be sent).
func validBody(data []byte) ([]byte, bool) {
	data = trimJSONSpace(data)
	return data, utf8.Valid(data) && json.Valid(data)
}

// fnv32 is FNV-1a over s's bytes, without allocating. It picks a channel's
// delivery worker.
func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h ^ h>>16 // fold: the worker is picked by h mod a small number
}
