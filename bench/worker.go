package main

import (
	"encoding/json"
	"errors"
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

// closeWait bounds how long a client-side close waits for the server's
// answer before the socket is closed anyway.
const closeWait = 5 * time.Second

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
	if err := w.engine.Start(); err != nil {
		return nil, fmt.Errorf("cannot start the nbio client engine: %w", err)
	}
	return w, nil
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

// grow dials this process's connections among global indices below target,
// at its part of the ramp rate, and returns when every new one is
// subscribed or failed.
func (w *worker) grow(target int) {
	var own []int
	for i := w.nextIdx; i < target; i++ {
		if i%w.procs == w.id {
			own = append(own, i)
		}
	}
	w.nextIdx = max(w.nextIdx, target)
	w.target.Add(int64(len(own)))
	w.dialAll(len(own), func(k int) *conn { return w.newConn(own[k]) }, w.o.Ramp/float64(w.procs), nil)
}

// dialAll connects n slots, slot(k) giving the k-th, paced to rate per
// second (0: unpaced) with at most -in-flight handshakes at a time, and
// returns when every one is subscribed or failed; done (if not nil) gets
// each outcome.
func (w *worker) dialAll(n int, slot func(k int) *conn, rate float64, done func(ok bool)) {
	sem := make(chan struct{}, w.o.InFlight)
	var pending, dialers sync.WaitGroup
	var next atomic.Int64
	start := time.Now()
	// A few goroutines dial (each connect blocks for a loopback round
	// trip); the handshakes complete on nbio's pollers.
	for range 4 {
		dialers.Go(func() {
			for {
				k := int(next.Add(1) - 1)
				if k >= n {
					return
				}
				if rate > 0 {
					if d := time.Until(start.Add(time.Duration(float64(k) / rate * float64(time.Second)))); d > 0 {
						time.Sleep(d) // pacing
					}
				}
				sem <- struct{}{}
				pending.Add(1)
				w.connect(slot(k), func(ok bool) {
					if done != nil {
						done(ok)
					}
					<-sem
					pending.Done()
				})
			}
		})
	}
	dialers.Wait()
	pending.Wait()
}

func (w *worker) newConn(i int) *conn {
	names := w.plan.channels(i)
	c := &conn{idx: i, w: w, sh: &w.shards[i%nShards], observer: i < w.o.Observers, chans: make([]chanStats, len(names))}
	for j, n := range names {
		c.chans[j].name = n
	}
	if len(names) > 0 {
		c.sub, _ = json.Marshal(map[string]any{"type": "subscribe", "id": "s", "data": map[string]any{"channels": names}})
	}
	w.mu.Lock()
	w.conns = append(w.conns, c)
	w.mu.Unlock()
	return c
}

// connect dials slot c and subscribes; done(ok) runs once, when the
// subscription is acknowledged or the attempt failed.
func (w *worker) connect(c *conn, done func(ok bool)) {
	att := &attempt{start: time.Now(), done: done, closed: make(chan struct{})}
	if c.att.Swap(att) != nil { // a reconnect: a new stream of seqs
		c.sh.mu.Lock()
		for j := range c.chans {
			c.chans[j].restart()
		}
		c.sh.mu.Unlock()
	}
	w.dialed.Add(1)
	w.dialer.dial(w.u, sourceIP(c.idx, w.o.SrcAddrs), c, func(l link, err error) {
		if err != nil {
			w.failed.Add(1)
			w.noteFailure(c, err)
			att.markClosed()
			att.finish(false)
			return
		}
		w.connected.Add(1)
		w.open.Add(1)
		c.link.Store(&linkBox{l})
		c.isOpen.Store(true)
		if len(c.sub) == 0 {
			w.onAck(c, 0)
			return
		}
		if err := l.writeText(c.sub); err != nil {
			w.noteFailure(c, fmt.Errorf("cannot subscribe: %w", err))
			att.finish(false)
		}
	})
}

func (w *worker) noteFailure(c *conn, err error) {
	reason := err.Error()
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		reason = "timeout"
	}
	if len(reason) > 80 {
		reason = reason[:80]
	}
	age := time.Since(c.att.Load().start).Seconds()
	w.mu.Lock()
	w.failReasons[reason]++
	if len(w.failLog) < maxCloseLog {
		w.failLog = append(w.failLog, fmt.Sprintf("conn %d (from %v): %s after %.3f s", c.idx, sourceIP(c.idx, w.o.SrcAddrs), reason, age))
	}
	w.mu.Unlock()
}

func (w *worker) onAck(c *conn, rejected int) {
	att := c.att.Load()
	us := time.Since(att.start).Microseconds()
	w.mu.Lock()
	recordMicros(w.connHist, us)
	w.mu.Unlock()
	w.acked.Add(1)
	w.rejected.Add(int64(rejected))
	att.finish(true)
}

// newRaw builds the load generator's own frame reader for slot c.
func (w *worker) newRaw(nbc *nbio.Conn, session any) *rawConn {
	c := session.(*conn)
	r := &rawConn{
		conn:  nbc,
		write: func(b []byte) error { _, err := nbc.Write(b); return err },
		shut:  nbc.Close,
		text:  func(p []byte) { w.onText(c, p) },
	}
	r.gone = func(err error) {
		code, reason := r.peerClose()
		w.onClosed(c, code, reason, err)
	}
	return r
}

// onMessage is nbio's message handler (-frame-reader nbio).
func (w *worker) onMessage(ws *websocket.Conn, _ websocket.MessageType, data []byte) {
	if c, ok := ws.Session().(*conn); ok {
		w.onText(c, data)
	}
}

// onClose is nbio's close handler (-frame-reader nbio).
func (w *worker) onClose(ws *websocket.Conn, err error) {
	c, ok := ws.Session().(*conn)
	if !ok {
		return
	}
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		w.onClosed(c, ce.Code, ce.Reason, err)
		return
	}
	w.onClosed(c, 0, "", err)
}

// onText handles one server message of slot c. It runs on the poller that
// read it, in order per connection.
func (w *worker) onText(c *conn, data []byte) {
	f := parseFrame(data)
	switch f.kind {
	case frameMessage:
		now := time.Now().UnixNano()
		sh := c.sh
		sh.mu.Lock()
		sh.received++
		if c.observer {
			sh.obsReceived++
		}
		if f.sent > 0 {
			recordMicros(sh.hist, (now-f.sent)/1000)
			if c.observer {
				recordMicros(sh.obsHist, (now-f.sent)/1000)
			}
		} else {
			sh.noTS++
		}
		found := false
		for j := range c.chans {
			if c.chans[j].name == string(f.channel) {
				if f.hasSeq {
					c.chans[j].observe(f.seq, f.conflated, f.value, now)
				}
				found = true
				break
			}
		}
		if !found {
			sh.unknownChan++
		}
		sh.mu.Unlock()
	case frameAck:
		w.onAck(c, f.rejected)
	case frameError:
		w.errorFrames.Add(1)
	default:
		w.otherFrames.Add(1)
	}
}

// onClosed runs once per connection when its socket closed; code is the
// server's close code (0: it sent no close frame).
func (w *worker) onClosed(c *conn, code int, reason string, err error) {
	w.open.Add(-1)
	c.isOpen.Store(false)
	if !c.closing.Load() {
		why := fmt.Sprintf("%d %s", code, reason)
		if code == 0 {
			why = "abnormal"
			if err != nil {
				why = "abnormal: " + err.Error()
				if len(why) > 60 {
					why = why[:60]
				}
			}
		}
		age := time.Since(c.att.Load().start).Seconds()
		w.mu.Lock()
		w.closes[why]++
		if len(w.closeLog) < maxCloseLog {
			w.closeLog = append(w.closeLog, fmt.Sprintf("conn %d (from %v): %s after %.1f s", c.idx, sourceIP(c.idx, w.o.SrcAddrs), why, age))
		}
		w.mu.Unlock()
	}
	att := c.att.Load()
	att.markClosed()
	att.finish(false) // a close before the ack fails the attempt
}

// closeConn sends a normal close and waits for the connection to go.
func (w *worker) closeConn(c *conn) {
	box := c.link.Load()
	att := c.att.Load()
	if box == nil || !c.isOpen.Load() {
		return
	}
	c.closing.Store(true)
	_ = box.l.writeClose(1000)
	t := time.NewTimer(closeWait)
	defer t.Stop()
	select {
	case <-att.closed:
	case <-t.C:
		_ = box.l.close()
		<-att.closed
	}
}

// churn performs count reconnects over the open slots, par at a time,
// paced to rate per second (0: unpaced).
func (w *worker) churn(count int, rate float64) {
	w.mu.Lock()
	slots := make([]*conn, 0, len(w.conns))
	for _, c := range w.conns {
		if c.isOpen.Load() {
			slots = append(slots, c)
		}
	}
	w.mu.Unlock()
	if len(slots) == 0 || count == 0 {
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range min(w.o.ChurnPar, len(slots)) {
		wg.Go(func() {
			for {
				k := int(next.Add(1) - 1)
				if k >= count {
					return
				}
				if rate > 0 {
					if d := time.Until(start.Add(time.Duration(float64(k) / rate * float64(time.Second)))); d > 0 {
						time.Sleep(d)
					}
				}
				c := slots[k%len(slots)]
				c.churnMu.Lock()
				w.closeConn(c)
				c.closing.Store(false)
				ok := make(chan bool, 1)
				w.connect(c, func(b bool) { ok <- b })
				if <-ok {
					w.churnDone.Add(1)
				} else {
					w.churnFailed.Add(1)
				}
				c.churnMu.Unlock()
			}
		})
	}
	wg.Wait()
}

// closeAll closes every open connection, 64 at a time.
func (w *worker) closeAll() {
	w.mu.Lock()
	all := append([]*conn(nil), w.conns...)
	w.mu.Unlock()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for {
				k := int(next.Add(1) - 1)
				if k >= len(all) {
					return
				}
				w.closeConn(all[k])
			}
		})
	}
	wg.Wait()
}

// loss sums the loss accounting of the connections still open; with
// observersOnly, of the observers only (storm: the others left and came
// back, so they missed publications on purpose). last, when not nil, is
// the last value published on each channel, which every subscriber's last
// message must carry.
func (w *worker) loss(accepted map[string]uint64, last map[string]int64, observersOnly bool) *lossTotals {
	w.mu.Lock()
	all := append([]*conn(nil), w.conns...)
	w.mu.Unlock()
	t := &lossTotals{}
	for _, c := range all {
		if !c.isOpen.Load() {
			continue // never connected, or closed by the server: reported as closes
		}
		if observersOnly && !c.observer {
			continue
		}
		c.sh.mu.Lock()
		t.addConn(c.chans, accepted, last, w.conf)
		c.sh.mu.Unlock()
	}
	return t
}
