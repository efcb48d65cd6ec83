package conn

import "sync"

// writer hands connections' pending bytes to their sockets. Each Conn belongs
// to one writer (by id), so its writes are never concurrent with each other,
// and a hot channel's writes are spread over all writers (cores).
type writer struct {
	mu    sync.Mutex
	queue []*Conn // connections with pending output; guarded by mu
	spare []*Conn // the writer goroutine's own; reused between rounds
	wake  chan struct{}
}

func newWriter() *writer {
	return &writer{wake: make(chan struct{}, 1)}
}

// push queues c for a flush. The caller guarantees c is not queued already
// (Conn.queued).
func (w *writer) push(c *Conn) {
	w.mu.Lock()
	w.queue = append(w.queue, c)
	first := len(w.queue) == 1
	w.mu.Unlock()
	if first {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// run flushes queued connections until stop is closed. Whatever was queued by
// then is flushed before it returns.
func (w *writer) run(stop <-chan struct{}) {
	for {
		select {
		case <-w.wake:
			w.drain()
		case <-stop:
			w.drain()
			return
		}
	}
}

func (w *writer) drain() {
	for {
		w.mu.Lock()
		q := w.queue
		w.queue = w.spare[:0]
		w.mu.Unlock()
		if len(q) == 0 {
			w.spare = q
			return
		}
		for _, c := range q {
			c.flush()
		}
		clear(q)
		w.spare = q
	}
}
