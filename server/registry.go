package server

import (
	"sync"
	"sync/atomic"

	"wsfan/conn"
	"wsfan/lib/cacheline"
)

// registry is the set of open clients, for the heartbeat and the drain. It
// is a ring of buckets: a client belongs to one bucket, by id, and the
// heartbeat visits one bucket per tick, so that each connection is pinged
// and checked once per ping_interval, at its own phase, and no tick touches
// every connection. Its methods are safe for concurrent use; bucket locks
// are leaves.
type registry struct {
	buckets []bucket
	n       atomic.Int64
}

type bucket struct {
	mu sync.Mutex
	m  map[*conn.Conn]struct{}
	_  cacheline.Pad // neighbouring bucket locks off one cache line
}

// newRegistry returns a registry of n buckets (at least 1).
func newRegistry(n int) *registry {
	r := &registry{buckets: make([]bucket, max(1, n))}
	for i := range r.buckets {
		r.buckets[i].m = make(map[*conn.Conn]struct{})
	}
	return r
}

func (r *registry) bucket(c *conn.Conn) *bucket {
	return &r.buckets[c.ID()%uint64(len(r.buckets))]
}

func (r *registry) add(c *conn.Conn) {
	b := r.bucket(c)
	b.mu.Lock()
	b.m[c] = struct{}{}
	b.mu.Unlock()
	r.n.Add(1)
}

func (r *registry) remove(c *conn.Conn) {
	b := r.bucket(c)
	b.mu.Lock()
	_, ok := b.m[c]
	delete(b.m, c)
	b.mu.Unlock()
	if ok {
		r.n.Add(-1)
	}
}

// visit calls fn for every client of bucket i (modulo the bucket count),
// with no registry lock held while fn runs. buf is scratch space, returned
// for reuse.
func (r *registry) visit(i int, buf []*conn.Conn, fn func(*conn.Conn)) []*conn.Conn {
	b := &r.buckets[i%len(r.buckets)]
	b.mu.Lock()
	buf = buf[:0]
	for c := range b.m {
		buf = append(buf, c)
	}
	b.mu.Unlock()
	for _, c := range buf {
		fn(c)
	}
	clear(buf)
	return buf[:0]
}

// all returns every registered client: the drain's list.
func (r *registry) all() []*conn.Conn {
	out := make([]*conn.Conn, 0, r.len())
	for i := range r.buckets {
		b := &r.buckets[i]
		b.mu.Lock()
		for c := range b.m {
			out = append(out, c)
		}
		b.mu.Unlock()
	}
	return out
}

// len returns the number of registered clients.
func (r *registry) len() int {
	return int(r.n.Load())
}
