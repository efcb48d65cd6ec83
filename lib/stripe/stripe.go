package stripe

import (
	"sync"

	"wsfan/lib/cacheline"
)

// Shards is the number of stripes, a power of two.
const Shards = 16

// Map is a striped map. Key must hash itself to a shard (Key.Shard); the
// zero Map is not usable, call New.
type Map[K Key, V any] struct {
	shards [Shards]shard[K, V]
}

// Key is a map key that picks its shard: any value in [0, n) for n a power
// of two, spread evenly.
type Key interface {
	comparable
	Shard(n int) int
}

type shard[K Key, V any] struct {
	mu sync.Mutex
	m  map[K]V
	_  cacheline.Pad
}

// New returns an empty Map.
func New[K Key, V any]() *Map[K, V] {
	m := &Map[K, V]{}
	for i := range m.shards {
		m.shards[i].m = make(map[K]V)
	}
	return m
}

// With runs fn with k's shard locked, on the shard's map and its index in
// [0, Shards): fn may read, set and delete k (and, rarely, other keys of
// the same shard, such as an eviction), and use the index for state of its
// own per shard, guarded by the same lock. fn must not call back into the
// Map.
func (m *Map[K, V]) With(k K, fn func(shard map[K]V, i int)) {
	i := k.Shard(Shards)
	sh := &m.shards[i]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	fn(sh.m, i)
}

// Len returns the number of keys, summed over the shards one at a time.
func (m *Map[K, V]) Len() int {
	n := 0
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}
