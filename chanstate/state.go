package chanstate

import (
	"crypto/rand"
	"encoding/base64"
	"strconv"
	"strings"
	"sync/atomic"
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

	set     bool
	history bool
}

// Ready reports whether Setup ran.
func (st *State) Ready() bool { return st.set }

// Setup records whether the channel keeps history and, if it does, names
// its numbering with epoch.
func (st *State) Setup(history bool, epoch string) {
	st.set, st.history = true, history
	if history {
		st.Epoch = epoch
	}
}

// History reports whether the channel keeps history.
func (st *State) History() bool { return st.history }

// Release returns the ring's memory to its budget.
func (st *State) Release() {
	if st.Ring != nil {
		st.Ring.Release()
		st.Ring = nil
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
