package limits

import (
	"net/netip"

	"wsfan/lib/stripe"
)

// PerIP counts open connections per client address group (an IPv4 address,
// or an IPv6 /64) and refuses a group past its maximum. Its methods are
// safe for concurrent use. A group's entry is deleted when its count
// returns to zero, so memory is O(groups with an open connection).
type PerIP struct {
	max int32                     // < 1: off
	m   *stripe.Map[ipKey, int32] // never a zero count
}

// NewPerIP returns a PerIP that allows max connections per group; max < 1
// (Off) allows any number and tracks nothing.
func NewPerIP(max int) *PerIP {
	return &PerIP{max: int32(min(max, 1<<30)), m: stripe.New[ipKey, int32]()}
}

// Acquire counts a new connection from ip and reports whether it is within
// the limit. On true the caller must call Release(ip) exactly once when the
// connection closes (or its upgrade fails), on this same PerIP; on false
// nothing was counted.
func (p *PerIP) Acquire(ip netip.Addr) bool {
	if p.max < 1 {
		return true
	}
	k, ok := keyOf(ip), false
	p.m.With(k, func(m map[ipKey]int32, _ int) {
		if n := m[k]; n < p.max {
			m[k], ok = n+1, true
		}
	})
	return ok
}

// Release uncounts a connection that Acquire admitted. A Release without a
// matching Acquire is ignored (the count never goes below zero).
func (p *PerIP) Release(ip netip.Addr) {
	if p.max < 1 {
		return
	}
	k := keyOf(ip)
	p.m.With(k, func(m map[ipKey]int32, _ int) {
		switch n := m[k]; {
		case n > 1:
			m[k] = n - 1
		case n == 1:
			delete(m, k)
		}
	})
}

// Count returns the open connections of ip's group.
func (p *PerIP) Count(ip netip.Addr) int {
	k, n := keyOf(ip), int32(0)
	p.m.With(k, func(m map[ipKey]int32, _ int) { n = m[k] })
	return int(n)
}

// Groups returns how many address groups have open connections: the size
// of the table (for a gauge, and to check that nothing leaks).
func (p *PerIP) Groups() int {
	return p.m.Len()
}
