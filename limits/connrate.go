package limits

import (
	"net/netip"
	"time"
	"wsfan/lib/gcra"
	"wsfan/lib/monotime"
	"wsfan/lib/stripe"

	"golang.org/x/time/rate"
)

const (
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
	rate     gcra.Rate // the per-address rate and burst
	maxShard int       // buckets per shard
	// buckets holds each group's theoretical arrival time (monotime); a
	// bucket is full (and removable) once it is <= now.
	buckets *stripe.Map[ipKey, int64]
	// lastSweep[i] is when shard i of buckets was last swept; guarded by
	// that shard's lock.
	lastSweep [stripe.Shards]int64
}

// NewConnRate returns a ConnRate for c, which must be validated.
func NewConnRate(c Config) *ConnRate {
	r := &ConnRate{}
	if c.NewConnectionsPerSecond != Off {
		r.global = rate.NewLimiter(rate.Limit(c.NewConnectionsPerSecond), c.NewConnectionsBurst)
	}
	if c.NewConnectionsPerIPPerSecond != Off {
		r.perIP = true
		r.rate = gcra.New(c.NewConnectionsPerIPPerSecond, c.NewConnectionsPerIPBurst)
		r.maxShard = max(1, c.MaxTrackedIPs/stripe.Shards)
		r.buckets = stripe.New[ipKey, int64]()
	}
	return r
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
	if r.perIP && !r.allowIP(keyOf(ip), monotime.Of(now)) {
		return RefusedPerIP
	}
	if r.global != nil && !r.global.AllowN(now, 1) {
		return RefusedGlobal
	}
	return Admitted
}

// allowIP takes a token from k's bucket at t (monotime).
func (r *ConnRate) allowIP(k ipKey, t int64) (ok bool) {
	r.buckets.With(k, func(m map[ipKey]int64, shard int) {
		tat, have := m[k]
		var next int64
		if next, ok = r.rate.Take(tat, t); !ok {
			return
		}
		if !have {
			// A sweep is O(shard); rate it, so that a flood of new
			// addresses into a full shard costs O(1) each, not a sweep each.
			since := t - r.lastSweep[shard]
			if since >= int64(sweepEvery) || (len(m) >= r.maxShard && since >= int64(minSweepGap)) {
				r.lastSweep[shard] = t
				for k, tat := range m {
					if tat <= t { // refilled: the same as no bucket
						delete(m, k)
					}
				}
			}
			if len(m) >= r.maxShard {
				for victim := range m { // arbitrary: map order
					delete(m, victim)
					break
				}
			}
		}
		m[k] = next
	})
	return ok
}

// Tracked returns how many per-address buckets are held.
func (r *ConnRate) Tracked() int {
	if r.buckets == nil {
		return 0
	}
	return r.buckets.Len()
}
