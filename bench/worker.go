package main

import (
	"fmt"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/lesismal/nbio"
	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"
)

// nShards stripes the receive accounting so that nbio's handler goroutines
// rarely share a lock.
const nShards = 16

// maxCloseLog is how many server-side closes a load process describes.
const maxCloseLog = 10

// worker holds one load process's share of the connections: global
// connection indices i with i % procs == id. Its connections live on one
// nbio client engine (no goroutine per connection). Methods are called by
// serve's command loop; nbio's goroutines call onMessage and onClose.
type worker struct {
	id, procs int
	o         *options
	plan      *plan
	u         *url.URL
	conf      conflation // the server's, for the loss accounting
	engine    *nbhttp.Engine
	dialer    *wsDialer
	shards    [nShards]shard

	mu          sync.Mutex
	conns       []*conn          // own connections, in dial order; guarded by mu
	failReasons map[string]int64 // guarded by mu
	failLog     []string         // the first few failures; guarded by mu
	closes      map[string]int64 // server-side closes by code and reason; guarded by mu
	closeLog    []string         // the first few of them, with the connection's age; guarded by mu
	connHist    *hdr.Histogram   // connect-to-ack latency (µs), interval; guarded by mu

	snapMu  sync.Mutex
	tmpHist *hdr.Histogram // guarded by snapMu
	tmpObs  *hdr.Histogram // guarded by snapMu

	nextIdx int // next global index grow considers; grow runs one at a time

	dialed, connected, failed, acked, rejected, open atomic.Int64
	reads, bytesIn, errorFrames, otherFrames         atomic.Int64
	churnDone, churnFailed, target                   atomic.Int64
	dropped, redialDone, redialFailed                atomic.Int64 // storm
}

// shard is a stripe of the receive accounting; pad keeps shards on
// separate cache lines.
type shard struct {
	mu                                      sync.Mutex
	hist                                    *hdr.Histogram // end-to-end latency (µs), interval
	obsHist                                 *hdr.Histogram // the same, observers only (storm)
	received, gaps, dups, noTS, unknownChan int64
	obsReceived                             int64 // messages received by observers
	_                                       [64]byte
}

// conn is one connection slot. A slot is dialed again by churn and storm;
// chans (guarded by sh.mu) keeps its counts across reconnects, and each
// new connection's first seq is not judged (its stream starts anew).
type conn struct {
	idx      int
	w        *worker
	sh       *shard
	observer bool // global index below -observers: stays through a storm
	chans    []chanStats
	sub      []byte                  // the subscribe frame
	link     atomic.Pointer[linkBox] // the open connection, if any
	att      atomic.Pointer[attempt]
	isOpen   atomic.Bool
	closing  atomic.Bool // a client-side close is in progress
	churnMu  sync.Mutex  // one churn operation at a time
}

// linkBox holds a link for atomic.Pointer.
type linkBox struct{ l link }

// attempt is one dial of a slot: connect, upgrade, subscribe, ack.
type attempt struct {
	start     time.Time
	once      sync.Once
	done      func(ok bool)
	closed    chan struct{} // closed when the connection closes
	closeOnce sync.Once
}

func (a *attempt) finish(ok bool) { a.once.Do(func() { a.done(ok) }) }
func (a *attempt) markClosed()    { a.closeOnce.Do(func() { close(a.closed) }) }

// newWorker starts an nbio client engine for load process id of procs.
func newWorker(o *options, id, procs int) (*worker, error) {
	u, err := url.Parse(o.URL)
	if err != nil {
		return nil, fmt.Errorf("cannot parse -url: %w", err)
	}
	w := &worker{
		id: id, procs: procs, o: o, plan: newPlan(o), u: u, conf: newConflation(o),
		failReasons: map[string]int64{}, closes: map[string]int64{},
		connHist: newHist(), tmpHist: newHist(), tmpObs: newHist(),
	}
	for i := range w.shards {
		w.shards[i].hist = newHist()
		w.shards[i].obsHist = newHist()
	}
	w.engine = nbhttp.NewEngine(nbhttp.Config{
		Name:                    fmt.Sprintf("bench-load-%d", id),
		NPoller:                 runtime.GOMAXPROCS(0),
		ReleaseWebsocketPayload: true,
	})
	up := websocket.NewUpgrader()
	up.KeepaliveTime = 0 // DESIGN.md: idle bench clients must not time out
	up.OnMessage(w.onMessage)
	up.OnClose(w.onClose)
	w.dialer = &wsDialer{engine: w.engine, upgrader: up, timeout: o.DialTimeout,
		onData: func(c *nbio.Conn, data []byte) {
			w.reads.Add(1)
			w.bytesIn.Add(int64(len(data)))
			if r, ok := c.Session().(*rawConn); ok {
				if err := r.Parse(data); err != nil {
					_ = c.CloseWithError(err)
				}
				return
			}
			w.engine.DataHandler(c, data)
		}}
	if o.FrameReader != "nbio" {
		w.dialer.raw = w.newRaw
	}
	if o.Deflate > 0 {
		w.dialer.offer = func(session any) bool { return offersDeflate(session.(*conn).idx, o.Deflate) }
	}
	if err := w.engine.Start(); err != nil {
		return nil, fmt.Errorf("cannot start the nbio client engine: %w", err)
	}
	return w, nil
}

// slots returns, in dial order, this process's connection slots that keep
// accepts (nil: every slot). keep runs under w.mu.
func (w *worker) slots(keep func(c *conn) bool) []*conn {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []*conn
	for _, c := range w.conns {
		if keep == nil || keep(c) {
			out = append(out, c)
		}
	}
	return out
}

// share returns how many of the global indices [lo, hi) belong to process
// id of procs.
func share(lo, hi, id, procs int) int {
	n := 0
	for i := lo; i < hi; i++ {
		if i%procs == id {
			n++
		}
	}
	return n
}
