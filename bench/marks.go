package main

import "time"

// mark is the state of every counter at one moment.
type mark struct {
	at time.Time
	// load is the load processes' latest snapshots summed: their counters
	// (every int64 field); nothing else of it is set.
	load                            snapshot
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
	scrapes                             int64 // the coordinator's /metrics scrapes so far
}

// mark reads every counter now (the load processes' as of their latest
// snapshot).
func (c *coordinator) mark() mark {
	m := mark{at: time.Now(), load: c.total(), scrapes: c.scrapes}
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
