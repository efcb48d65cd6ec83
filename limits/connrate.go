package limits

import (
	"math"
	"net/netip"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/time/rate"
)

const (
	// connRateShards is ConnRate's shard count for per-address buckets, a
	// power of two.
	connRateShards = 16
	// sweepEvery is how often a shard drops its refilled buckets even when
	// it is not full.
	sweepEvery = 10 * time.Second
	// minSweepGap is the least time between two sweeps of a full shard;
	// in between, a new address evicts an arbitrary bucket.
	minSweepGap = time.Second
)

// ConnRate limits new connections: globally with a token bucket
// (golang.org/x/time/rate), and per client address group (IPv4 address or
// IPv6 /64) with a bucket of its own. Its methods are safe for concurrent
// use.
//
// The per-address buckets are bounded in memory. A bucket is one int64
// (GCRA's theoretical arrival time, equivalent to a token bucket); one that
// has refilled completely is the same as no bucket and is dropped by a
// sweep of its shard, which runs every 10s, or when a new address finds the
// shard full and the last sweep is a second old. Otherwise a new address
// in a full shard evicts an arbitrary bucket: that address gets a fresh
// burst, and the global bucket still holds. Each shard holds at most
// max_tracked_ips/16 buckets.
type ConnRate struct {
	global *rate.Limiter // nil: no global limit

	perIP    bool
	interval int64 // ns between connections at the sustained per-address rate
	tol      int64 // burst × interval: how far ahead of now a bucket may run
	maxShard int   // buckets per shard
	shards   [connRateShards]rateShard
}

type rateShard struct {
	mu sync.Mutex
	// m holds each group's theoretical arrival time, in nanos since epoch;
	// a bucket is full (and removable) once it is <= now.
	m         map[ipKey]int64
	lastSweep int64
	_         [cacheLinePad - unsafe.Sizeof(sync.Mutex{}) - 16]byte
}

// NewConnRate returns a ConnRate for c, which must be validated.
func NewConnRate(c Config) *ConnRate {
	r := &ConnRate{}
	if c.NewConnectionsPerSecond != Off {
		r.global = rate.NewLimiter(rate.Limit(c.NewConnectionsPerSecond), c.NewConnectionsBurst)
	}
	if c.NewConnectionsPerIPPerSecond != Off {
		r.perIP = true
		r.interval = intervalOf(c.NewConnectionsPerIPPerSecond)
		r.tol = r.interval * int64(c.NewConnectionsPerIPBurst)
		r.maxShard = max(1, c.MaxTrackedIPs/connRateShards)
		for i := range r.shards {
			r.shards[i].m = make(map[ipKey]int64)
		}
	}
	return r
}

// intervalOf returns the nanoseconds between events at perSecond.
func intervalOf(perSecond float64) int64 {
	return max(1, int64(math.Round(float64(time.Second)/perSecond)))
}

// Admission is ConnRate.Admit's answer.
type Admission uint8

const (
	// Admitted: the connection may proceed.
	Admitted Admission = iota
	// RefusedPerIP: the client's address group is over its rate; answer
	// 429.
	RefusedPerIP
	// RefusedGlobal: the server is over its rate; answer 503.
	RefusedGlobal
)

// String returns "admitted", "per_ip" or "global" (fit for a metric label).
func (a Admission) String() string {
	switch a {
	case Admitted:
		return "admitted"
	case RefusedPerIP:
		return "per_ip"
	case RefusedGlobal:
		return "global"
	}
	return "unknown"
}

// Allow reports whether a new connection from ip may proceed now, and
// takes a token if so: Admit(ip, time.Now()) == Admitted.
func (r *ConnRate) Allow(ip netip.Addr) bool {
	return r.Admit(ip, time.Now()) == Admitted
}

// Admit takes a token for a new connection from ip at now, and says which
// limit, if any, refused it. The address's bucket is checked first, so an
// address over its own limit does not drain the global bucket. A refused
// attempt takes no token from the bucket that refused it; one refused by
// the global bucket has spent its address's token.
func (r *ConnRate) Admit(ip netip.Addr, now time.Time) Admission {
	if r.perIP && !r.allowIP(keyOf(ip), nanos(now)) {
		return RefusedPerIP
	}
	if r.global != nil && !r.global.AllowN(now, 1) {
		return RefusedGlobal
	}
	return Admitted
}

// allowIP takes a token from k's bucket at t (nanos since epoch).
func (r *ConnRate) allowIP(k ipKey, t int64) bool {
	sh := &r.shards[k.shard(connRateShards)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	tat, have := sh.m[k]
	next := max(tat, t) + r.interval
	if next-t > r.tol {
		return false
	}
	if !have {
		// A sweep is O(shard); rate it, so that a flood of new addresses
		// into a full shard costs O(1) each, not a sweep each.
		since := t - sh.lastSweep
		if since >= int64(sweepEvery) || (len(sh.m) >= r.maxShard && since >= int64(minSweepGap)) {
			sh.sweep(t)
		}
		if len(sh.m) >= r.maxShard {
			for victim := range sh.m { // arbitrary: map order
				delete(sh.m, victim)
				break
			}
		}
	}
	sh.m[k] = next
	return true
}

// sweep drops the buckets that have refilled. sh.mu must be held.
func (sh *rateShard) sweep(t int64) {
	sh.lastSweep = t
	for k, tat := range sh.m {
		if tat <= t {
			delete(sh.m, k)
		}
	}
}

// Tracked returns how many per-address buckets are held.
func (r *ConnRate) Tracked() int {
	n := 0
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}
