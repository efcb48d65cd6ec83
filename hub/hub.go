package hub

import (
	"log/slog"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"wsfan/chanstate"
	"wsfan/codec"
	"wsfan/config"
	"wsfan/conn"
	"wsfan/index"
	"wsfan/ws"
)

// entryTTL: an entry with no subscriber is kept this long after its last
// publication, so that its seq goes on where it was for whoever subscribes
// next; then it is dropped and a new one starts at 1 (a history channel's
// with a new epoch).
const entryTTL = 10 * time.Minute

// Bus is the cluster bus as the hub sees it.
type Bus interface {
	// Gaps counts the times the bus may have lost publications (a lost
	// connection): each new count makes every channel skip one seq.
	Gaps() uint64
	// Interest reports that a channel gained (+1) or lost (-1) a local
	// subscriber.
	Interest(channel string, delta int)
}

// Hub is the channel index and the publish path of one server.
type Hub struct {
	idx     *index.Index[*conn.Conn, chanstate.State]
	history config.History
	// conflation are the conflated channel patterns; interval their
	// delivery interval.
	conflation []string
	interval   time.Duration
	// deflater compresses publications for the connections that negotiated
	// permessage-deflate: once each, and only those of at least minDeflate
	// bytes. nil when compression is off.
	deflater   *ws.Deflater
	minDeflate int
	budget     *chanstate.Budget
	epochs     *chanstate.Epochs
	bus        Bus
	// stream, in JetStream mode, numbers the channels and holds their
	// history; streamTimeout bounds a subscribe's reads from it.
	stream        Stream
	streamTimeout time.Duration
	reads         chan readJob  // to the stream readers
	stopReads     chan struct{} // closed by Close: the readers end
	log           *slog.Logger
	m             *hubMetrics

	// pubMu: publishers hold it for reading; Close takes it once to wait
	// for the publications in flight.
	pubMu  sync.RWMutex
	closed bool // guarded by pubMu
}

// New returns the hub of cfg (validated): its index_shards, [history] and
// compression keys. Its metrics go in set.
func New(cfg *config.Config, set *metrics.Set, log *slog.Logger) *Hub {
	h := &Hub{
		idx:        index.New[*conn.Conn, chanstate.State](cfg.IndexShards),
		history:    cfg.History,
		conflation: cfg.Conflation.Channels,
		interval:   cfg.Conflation.Interval,
		minDeflate: cfg.CompressionMinBytes,
		epochs:     chanstate.NewEpochs(),
		log:        log,
	}
	if cfg.CompressionOn() {
		h.deflater = ws.NewDeflater(cfg.CompressionLevel)
	}
	h.m = newHubMetrics(h, set)
	h.budget = chanstate.NewBudget(int64(cfg.History.MaxBytes), h.m.histEvictions)
	return h
}

// SetBus connects the hub to the cluster bus; call it before the first
// publication or subscription.
func (h *Hub) SetBus(b Bus) { h.bus = b }

// Close refuses every later publication and returns once those in flight
// were delivered.
func (h *Hub) Close() {
	h.pubMu.Lock()
	defer h.pubMu.Unlock()
	if h.stopReads != nil && !h.closed {
		close(h.stopReads)
	}
	h.closed = true
}

// Index is the channel index, for metrics and tests.
func (h *Hub) Index() *index.Index[*conn.Conn, chanstate.State] { return h.idx }

// HistoryBytes is the memory the history rings hold.
func (h *Hub) HistoryBytes() int64 { return h.budget.Bytes() }

// HistoryEnabled reports whether channel keeps history.
func (h *Hub) HistoryEnabled(channel string) bool {
	return matchesAny(h.history.Channels, channel)
}

// matchesAny reports whether one of patterns matches channel.
func matchesAny(patterns []string, channel string) bool {
	for _, p := range patterns {
		if index.Matches(p, channel) {
			return true
		}
	}
	return false
}

// prepare sets up ch's State the first time the hub uses it.
func (h *Hub) prepare(ch *conn.Entry) *chanstate.State {
	st := &ch.State
	if !st.Ready() {
		epoch, history := "", h.HistoryEnabled(ch.Name())
		switch {
		case history && h.stream != nil:
			epoch = h.stream.Epoch()
		case history:
			epoch = h.epochs.Next()
		}
		st.Setup(history, epoch, h.Conflated(ch.Name()))
	}
	return st
}

// sameNumbering reports whether a client's position since counts in st's
// numbering: it names st's incarnation, or it is a position at seq 0 from
// this run, which has seen nothing of any numbering (a channel left before
// its first publication is dropped, and the next subscribe or publication
// makes a new entry, starting again at 1).
func (h *Hub) sameNumbering(since codec.Since, st *chanstate.State) bool {
	return since.Epoch == st.Epoch || (h.stream == nil && since.Seq == 0 && h.epochs.ThisRun(since.Epoch))
}

// worthKeeping reports whether an entry left without subscribers must stay:
// its seq was used within entryTTL (or history.ttl, when longer), so that
// the numbering, and the history a reconnecting client may recover, go on.
// A channel nobody ever published to (a name a client made up) is never
// worth keeping.
func (h *Hub) worthKeeping(st *chanstate.State, now int64) bool {
	return st.Seq > 0 && now-st.LastPub < int64(max(entryTTL, h.history.TTL))
}

// leaveLocked removes s's member from its channel and drops the entry when
// it is left empty and not worth keeping. The caller holds the entry's lock
// and tells the bus (interest) once it released it.
func (h *Hub) leaveLocked(s *conn.Sub, now int64) {
	ch := s.Channel()
	ch.Remove(s)
	if ch.Len() == 0 && (ch.IsPattern() || !h.worthKeeping(&ch.State, now)) {
		ch.State.Release()
		h.idx.Drop(ch)
	}
}

// interest tells the bus, if any, that channel gained or lost a subscriber.
// It is called with no entry lock held.
func (h *Hub) interest(channel string, delta int) {
	if h.bus != nil {
		h.bus.Interest(channel, delta)
	}
}

// Shards is the number of index shards, each swept by Sweep.
func (h *Hub) Shards() int { return h.idx.Shards() }

// Sweep visits the channels of index shard i: those without subscribers
// past entryTTL are dropped, and history entries older than history.ttl
// let go of their memory. A caller sweeps one shard at a time, so no sweep
// touches every channel at once.
func (h *Hub) Sweep(i int, now time.Time) {
	nowNano := now.UnixNano()
	notBefore := now.Add(-h.history.TTL).UnixNano()
	h.idx.Range(i, func(ch *conn.Entry) {
		if !ch.TryLock() { // busy publishing: next round
			return
		}
		defer ch.Unlock()
		if ch.Dead() {
			return
		}
		st := &ch.State
		if st.Ring != nil {
			st.Ring.Expire(notBefore)
		}
		if ch.Len() == 0 && !h.worthKeeping(st, nowNano) {
			st.Release()
			h.idx.Drop(ch)
		}
	})
}
