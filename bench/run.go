package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/schollz/progressbar/v3"
)

// coordinator runs one load run: it drives the load processes, the
// publisher and the server, samples them every interval and builds the
// result. Only its own goroutine uses it.
type coordinator struct {
	o       *options
	ctx     context.Context
	tgt     *target
	plan    *plan
	workers []*workerHandle
	events  chan snapshot
	latest  []snapshot
	counts  []map[string]int // events seen, per worker
	pub     *publisher
	// lastValues is each token channel's last published value
	// (-last-value), set once publishing ended.
	lastValues map[string]int64
	res        *result
	start      time.Time
	log        io.Writer

	ivHist    *hdr.Histogram // latency since the last sample
	phaseHist *hdr.Histogram // latency of the current phase
	connHist  *hdr.Histogram // connect latency of the current phase
	obsHist   *hdr.Histogram // latency on observers since the storm code reset it

	last     mark // at the previous sample
	loadCPUs cpuMeter
	softirqs cpuMeter // the ksoftirqd threads
	scrapes  int64    // admin /metrics scrapes made; each costs the server CPU
	bar      *progressbar.ProgressBar
	barBase  int64 // the bar counts acked+failed above this
	phase    string
}

// mark is the state of every counter at one moment.
type mark struct {
	at                              time.Time
	received, reads, acked, failed  int64
	obsReceived                     int64 // by observers
	dropped, redialDone, redialFail int64 // storm
	bytesIn                         int64 // read by the clients
	churnDone, churnFailed          int64
	open                            int64
	pubAccepted, pubSent, pubFailed int64
	expected                        int64
	srv                             procSample
	srvOK                           bool
	// From the admin /metrics: the server's own socket-write counter (-1
	// when it has none), deliveries (enqueued) and bytes out.
	sockWrites, srvDeliveries, bytesOut float64
	metOK                               bool
	loadCPU                             float64
	softirqCPU                          float64    // the ksoftirqd threads'
	cpus                                []cpuTimes // the machine's, from /proc/stat
	closes1008                          int64
	gaps                                int64
	scrapes                             int64 // the coordinator's /metrics scrapes so far
}

// run performs the run o describes.
func run(ctx context.Context, o *options, log io.Writer) (*result, error) {
	ctx, cancel := context.WithTimeout(ctx, o.Deadline)
	defer cancel()
	c := &coordinator{
		o: o, ctx: ctx, log: log, plan: newPlan(o),
		events: make(chan snapshot, 1024),
		ivHist: newHist(), phaseHist: newHist(), connHist: newHist(), obsHist: newHist(),
		res: newResult(o),
	}
	var err error
	if o.Spawn {
		c.tgt, err = spawnServer(ctx, o)
		if err != nil {
			return nil, err
		}
		o.URL, o.Admin = c.tgt.url, c.tgt.admin
	} else {
		c.tgt = &target{url: o.URL, admin: o.Admin, pid: o.PID}
	}
	defer func() {
		if err := c.tgt.stop(); err != nil {
			fmt.Fprintf(log, "bench: %v\n", err)
		}
	}()
	c.res.Server.PID, c.res.Server.Spawned, c.res.Server.Target = c.tgt.pid, c.tgt.spawned, o.Target
	if o.Target == targetRaw && (o.PingInterval > 0 || o.ServerConfig != "" || o.ServerTOML != "") {
		c.note("the raw reference server has no config: -ping-interval, -server-config and -server-toml applied to wsfan only (raw sends no pings)")
	}
	err = c.execute()
	c.res.Elapsed = time.Since(c.start).Seconds()
	if err != nil {
		return c.res, err
	}
	return c.res, nil
}

func (c *coordinator) execute() error {
	o := c.o
	c.start = time.Now()
	if c.tgt.pid > 0 {
		if s, err := readProc(c.tgt.pid); err == nil {
			c.res.Server.RSSStartKB = s.RSSKB
		}
	}
	if m, err := c.scrape(); err == nil {
		if name, _, ok := m.writeCounter(); ok {
			c.res.WritesSource = "server writes/s: the server's " + name + "; write syscalls/s: /proc/<pid>/io syscw"
		}
	}
	if c.res.WritesSource == "" && c.tgt.pid > 0 {
		c.res.WritesSource = "server writes/s: /proc/<pid>/io syscw (every write(2)-family call of the server, not only sockets)"
	}

	var err error
	c.workers, err = startWorkers(o, c.events)
	if err != nil {
		return err
	}
	c.latest = make([]snapshot, len(c.workers))
	c.counts = make([]map[string]int, len(c.workers))
	for i := range c.counts {
		c.counts[i] = map[string]int{}
	}
	c.softirqs.pids = kernelThreads("ksoftirqd/")
	c.loadCPUs.pids = []int{os.Getpid()}
	for _, w := range c.workers {
		if w.pid > 0 {
			c.loadCPUs.pids = append(c.loadCPUs.pids, w.pid)
		}
	}
	defer c.stopWorkers()
	c.last = c.mark()

	if o.isStorm() {
		// The publisher's owed deliveries are the observers': the other
		// connections come and go.
		c.pub = newPublisher(o, c.plan, c.plan.subscribers(o.Observers))
		if err := c.storm(); err != nil {
			return err
		}
		if err := c.finish(); err != nil {
			return err
		}
		return c.closeAll()
	}
	for i, n := range o.Stages {
		if err := c.grow(i, n); err != nil {
			return err
		}
	}
	subs := c.plan.subscribers(o.Conns)
	c.pub = newPublisher(o, c.plan, subs)
	switch {
	case o.isHot():
		if err := c.hot(); err != nil {
			return err
		}
	case o.Rate > 0:
		if err := c.publish(); err != nil {
			return err
		}
	}
	if o.Churn > 0 {
		if err := c.churn(); err != nil {
			return err
		}
	}
	if err := c.finish(); err != nil {
		return err
	}
	return c.closeAll()
}

// send gives every load process the same command.
func (c *coordinator) send(cmd command) {
	for _, w := range c.workers {
		w.cmds <- cmd
	}
}

func (c *coordinator) stopWorkers() {
	for _, w := range c.workers {
		select {
		case w.cmds <- command{Op: "exit"}:
		default:
		}
		close(w.cmds)
	}
	done := make(chan struct{})
	go func() {
		for _, w := range c.workers {
			_ = w.wait()
		}
		close(done)
	}()
	for {
		select {
		case <-done:
			return
		case <-c.events: // keep the load processes unblocked
		case <-time.After(15 * time.Second):
			fmt.Fprintln(c.log, "bench: load processes did not exit within 15 s")
			return
		}
	}
}

// handle takes in one snapshot.
func (c *coordinator) handle(s snapshot) error {
	if s.Event == evError {
		return errors.New(s.Err)
	}
	if s.Worker < 0 || s.Worker >= len(c.latest) {
		return fmt.Errorf("snapshot from unknown load process %d", s.Worker)
	}
	if err := mergeEncoded(c.ivHist, s.Lat); err != nil {
		return err
	}
	if err := mergeEncoded(c.phaseHist, s.Lat); err != nil {
		return err
	}
	if err := mergeEncoded(c.connHist, s.Conn); err != nil {
		return err
	}
	if err := mergeEncoded(c.obsHist, s.Obs); err != nil {
		return err
	}
	s.Lat, s.Conn, s.Obs = nil, nil, nil
	c.latest[s.Worker] = s
	c.counts[s.Worker][s.Event]++
	if c.bar != nil {
		_ = c.bar.Set64(c.sum(func(s *snapshot) int64 { return s.Acked + s.Failed }) - c.barBase)
	}
	return nil
}

// sum adds a field over the latest snapshots.
func (c *coordinator) sum(f func(*snapshot) int64) int64 {
	var n int64
	for i := range c.latest {
		n += f(&c.latest[i])
	}
	return n
}

// allSaw reports whether every load process sent event at least n times.
func (c *coordinator) allSaw(event string, n int) bool {
	for _, m := range c.counts {
		if m[event] < n {
			return false
		}
	}
	return true
}

// wait handles events and samples every interval until done() holds or
// timeout passes; it returns whether done() held.
func (c *coordinator) wait(done func() bool, timeout time.Duration) (bool, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	next := c.last.at.Add(c.o.Interval)
	var barTick <-chan time.Time // refreshes the progress bar between samples
	if c.bar != nil {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		barTick = t.C
	}
	for {
		if done != nil && done() {
			return true, nil
		}
		tick := time.NewTimer(time.Until(next))
		select {
		case s := <-c.events:
			tick.Stop()
			if err := c.handle(s); err != nil {
				return false, err
			}
		case <-tick.C:
			if _, err := c.sample(); err != nil {
				return false, err
			}
			next = c.last.at.Add(c.o.Interval)
		case <-barTick:
			tick.Stop()
			if err := c.refresh(); err != nil {
				return false, err
			}
		case <-deadline.C:
			tick.Stop()
			return false, nil
		case <-c.ctx.Done():
			tick.Stop()
			return false, fmt.Errorf("run stopped: %w", c.ctx.Err())
		}
		if !c.tgt.alive() {
			return false, fmt.Errorf("the server exited:\n%s", c.tgt.logTail())
		}
	}
}

// refresh asks every load process for a snapshot and waits for them all.
func (c *coordinator) refresh() error {
	want := make([]int, len(c.workers))
	for i := range want {
		want[i] = c.counts[i][evSnap] + 1
	}
	c.send(command{Op: "snap"})
	timeout := time.After(30 * time.Second)
	for {
		ok := true
		for i, n := range want {
			if c.counts[i][evSnap] < n {
				ok = false
			}
		}
		if ok {
			return nil
		}
		select {
		case s := <-c.events:
			if err := c.handle(s); err != nil {
				return err
			}
		case <-timeout:
			return errors.New("load processes did not answer a snapshot within 30 s")
		}
	}
}

// mark reads every counter now (the load processes' as of their latest
// snapshot).
func (c *coordinator) mark() mark {
	m := mark{at: time.Now(), scrapes: c.scrapes}
	m.received = c.sum(func(s *snapshot) int64 { return s.Received })
	m.obsReceived = c.sum(func(s *snapshot) int64 { return s.ObsReceived })
	m.dropped = c.sum(func(s *snapshot) int64 { return s.Dropped })
	m.redialDone = c.sum(func(s *snapshot) int64 { return s.RedialDone })
	m.redialFail = c.sum(func(s *snapshot) int64 { return s.RedialFailed })
	m.reads = c.sum(func(s *snapshot) int64 { return s.Reads })
	m.bytesIn = c.sum(func(s *snapshot) int64 { return s.BytesIn })
	m.acked = c.sum(func(s *snapshot) int64 { return s.Acked })
	m.failed = c.sum(func(s *snapshot) int64 { return s.Failed })
	m.open = c.sum(func(s *snapshot) int64 { return s.Open })
	m.gaps = c.sum(func(s *snapshot) int64 { return s.Gaps })
	m.churnDone = c.sum(func(s *snapshot) int64 { return s.ChurnDone })
	m.churnFailed = c.sum(func(s *snapshot) int64 { return s.ChurnFailed })
	m.closes1008 = c.sum(func(s *snapshot) int64 { return s.Closes["1008 slow consumer"] })
	if c.pub != nil {
		m.pubAccepted, m.pubSent, m.pubFailed = c.pub.accepted.Load(), c.pub.sent.Load(), c.pub.failed.Load()
		m.expected = c.pub.expected.Load()
	}
	if c.tgt.pid > 0 {
		if s, err := readProc(c.tgt.pid); err == nil {
			m.srv, m.srvOK = s, true
		}
	}
	m.sockWrites = -1
	if met, err := c.scrape(); err == nil {
		m.metOK = true
		if _, v, ok := met.writeCounter(); ok {
			m.sockWrites = v
		}
		m.srvDeliveries, m.bytesOut = met.get(mDeliveries), met.get(mBytesOut)
	}
	m.loadCPU = c.loadCPUs.total()
	m.softirqCPU = c.softirqs.total()
	m.cpus, _ = readCPUs()
	return m
}

// scrape fetches the server's /metrics and counts the scrape.
func (c *coordinator) scrape() (promSample, error) {
	c.scrapes++
	return scrapeMetrics(c.ctx, c.o.Admin)
}

// sample takes fresh snapshots and returns the mark. It appends a point
// to the time series unless the last one is under half an interval old
// (phase boundaries): CPU ticks are 10 ms, and a short interval would
// show noise, so the next point covers both.
func (c *coordinator) sample() (mark, error) {
	if err := c.refresh(); err != nil {
		return mark{}, err
	}
	m := c.mark()
	if m.at.Sub(c.last.at) < c.o.Interval/2 {
		return m, nil
	}
	p := pointBetween(c.last, m, c.start, c.phase)
	lat := summarize(c.ivHist)
	p.P50, p.P99, p.P999, p.Max = lat.P50, lat.P99, lat.P999, lat.Max
	c.ivHist.Reset()
	c.res.Series = append(c.res.Series, p)
	c.last = m
	return m, nil
}

// measure samples now and returns the mark (a phase boundary).
func (c *coordinator) measure() (mark, error) { return c.sample() }

// startPhase resets the phase histograms and returns the boundary mark.
func (c *coordinator) startPhase(name string) (mark, error) {
	m, err := c.measure()
	c.phase = name
	c.phaseHist.Reset()
	c.connHist.Reset()
	return m, err
}
