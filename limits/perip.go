package limits

import (
	"net/netip"
	"sync"
	"unsafe"
)

// perIPShards is PerIP's shard count, a power of two.
const perIPShards = 16

// PerIP counts open connections per client address group (an IPv4 address,
// or an IPv6 /64) and refuses a group past its maximum. Its methods are
// safe for concurrent use. A group's entry is deleted when its count
// returns to zero, so memory is O(groups with an open connection).
type PerIP struct {
	max    int32 // < 1: off
	shards [perIPShards]perIPShard
}

type perIPShard struct {
	mu sync.Mutex
	// m holds the open connections of each group; never a zero count.
	m map[ipKey]int32
	_ [cacheLinePad - unsafe.Sizeof(sync.Mutex{}) - unsafe.Sizeof(map[ipKey]int32(nil))]byte
}

// NewPerIP returns a PerIP that allows max connections per group; max < 1
// (Off) allows any number and tracks nothing.
func NewPerIP(max int) *PerIP {
	p := &PerIP{max: int32(min(max, 1<<30))}
	for i := range p.shards {
		p.shards[i].m = make(map[ipKey]int32)
	}
	return p
}

// Acquire counts a new connection from ip and reports whether it is within
// the limit. On true the caller must call Release(ip) exactly once when the
// connection closes (or its upgrade fails), on this same PerIP; on false
// nothing was counted.
func (p *PerIP) Acquire(ip netip.Addr) bool {
	if p.max < 1 {
		return true
	}
	k := keyOf(ip)
	sh := &p.shards[k.shard(perIPShards)]
	sh.mu.Lock()
	n := sh.m[k]
	ok := n < p.max
	if ok {
		sh.m[k] = n + 1
	}
	sh.mu.Unlock()
	return ok
}

// Release uncounts a connection that Acquire admitted. A Release without a
// matching Acquire is ignored (the count never goes below zero).
func (p *PerIP) Release(ip netip.Addr) {
	if p.max < 1 {
		return
	}
	k := keyOf(ip)
	sh := &p.shards[k.shard(perIPShards)]
	sh.mu.Lock()
	switch n := sh.m[k]; {
	case n > 1:
		sh.m[k] = n - 1
	case n == 1:
		delete(sh.m, k)
	}
	sh.mu.Unlock()
}

// Count returns the open connections of ip's group.
func (p *PerIP) Count(ip netip.Addr) int {
	k := keyOf(ip)
	sh := &p.shards[k.shard(perIPShards)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return int(sh.m[k])
}

// Groups returns how many address groups have open connections: the size
// of the table (for a gauge, and to check that nothing leaks).
func (p *PerIP) Groups() int {
	n := 0
	for i := range p.shards {
		sh := &p.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}
