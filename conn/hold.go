package conn

import "sync"

// A command that waits for something slow (a read from the JetStream
// stream) holds the connection instead of blocking one of nbio's executor
// goroutines, of which there are few: the jobs of the connection that
// arrive meanwhile (commands, pings, the peer's close) are parked and run
// after it, in order.

// maxParked is how many jobs a held connection may park; past it the peer
// is sending faster than any command rate allows, and is closed (1008).
const maxParked = 256

// parked are the held connections' parked jobs, in arrival order.
type parked struct {
	mu   sync.Mutex
	jobs map[*Conn][]func()
}

// park adds job to c's jobs; it reports false when c parked too many.
func (p *parked) park(c *Conn, job func()) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.jobs[c]) >= maxParked {
		return false
	}
	if p.jobs == nil {
		p.jobs = make(map[*Conn][]func())
	}
	p.jobs[c] = append(p.jobs[c], job)
	return true
}

// take removes and returns c's jobs.
func (p *parked) take(c *Conn) []func() {
	p.mu.Lock()
	defer p.mu.Unlock()
	jobs := p.jobs[c]
	delete(p.jobs, c)
	return jobs
}

// put makes jobs c's parked jobs (c had none).
func (p *parked) put(c *Conn, jobs []func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.jobs[c] = jobs
}

// run queues job on c's executor, in order with every other job of c; while
// c is held, job is parked until the hold ends.
func (c *Conn) run(job func()) bool {
	return c.nbc.Execute(func() {
		if !c.held {
			job()
			return
		}
		if !c.env.parked.park(c, job) && c.RequestClose(1008, "rate limited", false) {
			c.env.m.parkedOver.Inc()
		}
	})
}

// Hold holds c: its later jobs are parked until the function it returns is
// called, from any goroutine, with the job that ends the wait, once. That
// job runs on c's executor, then the parked ones, in order; if the
// connection is gone by then, none runs. Hold runs on c's executor.
func (c *Conn) Hold() (resume func(job func())) {
	if c.nbc == nil { // detached: no executor, nothing else runs
		return func(job func()) { job() }
	}
	c.held = true
	return func(job func()) {
		if !c.nbc.Execute(func() { c.resume(job) }) {
			c.env.parked.take(c) // the connection is gone
		}
	}
}

// resume ends the hold with job, then runs the parked jobs until one of
// them holds c again: the rest stay parked, first.
func (c *Conn) resume(job func()) {
	c.held = false
	job()
	jobs := c.env.parked.take(c)
	for i, j := range jobs {
		if c.held {
			c.env.parked.put(c, jobs[i:])
			return
		}
		j()
	}
}
