package main

import (
	"context"
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
