package chanstate

import (
	"crypto/rand"
	"encoding/base64"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// State is a channel's publication state. The zero value is a channel
// nobody has used yet; Setup decides, once, whether it keeps history.
type State struct {
	Seq     uint64 // last seq handed out
	LastPub int64  // UnixNano of the last publication
	Gaps    uint64 // the cluster bus's gap count when Seq last moved
	// Epoch names this incarnation of the channel's numbering in history
	// positions; empty for a channel without history.
	Epoch string
	// Ring holds the recent publications; nil until the first one of a
	// channel with history, and again once the sweep let it go.
	Ring *History
	// Conf is a conflated channel's conflation state; nil for others.
	Conf *Conflation

	// Known: in JetStream mode, the stream told this node the channel's
	// position (0 included), so a subscribe need not ask again; later
	// publications come through this node's delivery.
	Known bool

	set     bool
	history bool
}

// Ready reports whether Setup ran.
func (st *State) Ready() bool { return st.set }

// Setup records whether the channel keeps history and, if it does, names
// its numbering with epoch; and whether it is conflated.
func (st *State) Setup(history bool, epoch string, conflated bool) {
	st.set, st.history = true, history
	if history {
		st.Epoch = epoch
	}
	if conflated {
		st.Conf = &Conflation{}
	}
}

// Position is the seq a new subscriber stands at: the last publication
// delivered. On a conflated channel holding a publication for the trailing
// edge, that is before the held one and those it replaced, which the
// trailing message counts.
func (st *State) Position() uint64 {
	if cf := st.Conf; cf != nil && cf.Held {
		return cf.Seq - cf.Replaced - 1
	}
	return st.Seq
}

// History reports whether the channel keeps history.
func (st *State) History() bool { return st.history }

// Release returns the ring's memory to its budget and stops a conflation
// timer: the entry is being dropped.
func (st *State) Release() {
	if st.Ring != nil {
		st.Ring.Release()
		st.Ring = nil
	}
	if st.Conf != nil && st.Conf.Timer != nil {
		st.Conf.Timer.Stop()
	}
}

// Conflation is what a conflated channel keeps between deliveries: when it
// last delivered, and the latest publication held since (delivered when the
// interval ends), with the count of earlier ones it replaced.
type Conflation struct {
	LastDelivery int64 // UnixNano; 0 before the first
	Held         bool
	Seq          uint64
	TS           int64  // Unix milliseconds, as in the message
	Accepted     int64  // UnixNano
	Data         []byte // a copy; the buffer is reused
	// Replaced is how many publications the held one replaced: its
	// "conflated" count.
	Replaced uint64
	// Timer delivers the held publication; the hub sets it up once and
	// arms it (Armed) while one is held.
	Timer *time.Timer
	Armed bool
}

// Hold keeps a publication for the trailing edge, in place of the one
// held, if any. It reports whether it replaced one.
func (cf *Conflation) Hold(seq uint64, ts, accepted int64, data []byte) bool {
	replaced := cf.Held
	if replaced {
		cf.Replaced++
	}
	cf.Held, cf.Seq, cf.TS, cf.Accepted = true, seq, ts, accepted
	cf.Data = append(cf.Data[:0], data...)
	return replaced
}

// Delivered records a delivery at now (UnixNano): nothing is held.
func (cf *Conflation) Delivered(now int64) {
	cf.LastDelivery, cf.Held, cf.Replaced = now, false, 0
	if cap(cf.Data) > 64<<10 {
		cf.Data = nil // a burst of large publications: do not keep the buffer
	} else {
		cf.Data = cf.Data[:0]
	}
}

// Epochs names the incarnations of history channels: "<node>.<n>", where
// node is random at every start (a position from another run or another
// node is never taken for this one's) and n counts the channel entries made
// in this run. Safe for concurrent use.
type Epochs struct {
	node string
	n    atomic.Uint64
}

// NewEpochs returns the epochs of a new run.
func NewEpochs() *Epochs {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return &Epochs{node: base64.RawURLEncoding.EncodeToString(b[:])}
}

// Next returns a new incarnation's epoch.
func (e *Epochs) Next() string {
	return e.node + "." + strconv.FormatUint(e.n.Add(1), 36)
}

// ThisRun reports whether epoch was handed out by this run.
func (e *Epochs) ThisRun(epoch string) bool {
	return strings.HasPrefix(epoch, e.node+".")
}
