package loop

import "sync"

// registryShards stripes the set of open clients; power of two.
const registryShards = 64

// registry is the set of open clients, for heartbeats and the drain.
type registry struct {
	shards [registryShards]struct {
		mu sync.Mutex
		m  map[*client]struct{}
		_  [48]byte
	}
}

func newRegistry() *registry {
	r := &registry{}
	for i := range r.shards {
		r.shards[i].m = make(map[*client]struct{})
	}
	return r
}

func (r *registry) add(c *client) {
	sh := &r.shards[c.id&(registryShards-1)]
	sh.mu.Lock()
	sh.m[c] = struct{}{}
	sh.mu.Unlock()
}

func (r *registry) remove(c *client) {
	sh := &r.shards[c.id&(registryShards-1)]
	sh.mu.Lock()
	delete(sh.m, c)
	sh.mu.Unlock()
}

// each calls fn for every client, one shard at a time; no registry lock is
// held while fn runs. buf is scratch space, returned for reuse.
func (r *registry) each(buf []*client, fn func(*client)) []*client {
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		buf = buf[:0]
		for c := range sh.m {
			buf = append(buf, c)
		}
		sh.mu.Unlock()
		for _, c := range buf {
			fn(c)
		}
	}
	clear(buf)
	return buf[:0]
}

// len returns the number of registered clients.
func (r *registry) len() int {
	n := 0
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}
