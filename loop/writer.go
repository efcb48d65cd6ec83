package loop

import "sync"

// writer hands clients' pending bytes to their sockets. Each client belongs
// to one writer (by id), so its writes are never concurrent with each other,
// and a hot channel's writes are spread over all writers (cores).
type writer struct {
	mu    sync.Mutex
	queue []*client // clients with pending output; guarded by mu
	spare []*client // the writer goroutine's own; reused between rounds
	wake  chan struct{}
}

// writerOf returns c's writer: each client belongs to one, by id.
func (s *Server) writerOf(c *client) *writer {
	return s.writers[c.id%uint64(len(s.writers))]
}

func newWriter() *writer {
	return &writer{wake: make(chan struct{}, 1)}
}

// push queues c for a flush. The caller guarantees c is not queued already
// (client.queued).
func (w *writer) push(c *client) {
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

// run flushes queued clients until stop is closed. Whatever was queued by
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
