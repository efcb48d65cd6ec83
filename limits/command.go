package limits

import (
	"math"
	"sync/atomic"
	"time"
	"wsfan/lib/gcra"
	"wsfan/lib/monotime"
)

// Verdict is CommandBucket.Take's answer.
type Verdict uint8

const (
	// Allowed: handle the command.
	Allowed Verdict = iota
	// Limited: answer the command with an error frame RATE_LIMITED and
	// drop it; the connection stays open.
	Limited
	// Abuse: the client kept sending past its limit for longer than the
	// grace; close the connection with 1008 "rate limited".
	Abuse
)

// String returns "allowed", "limited" or "abuse".
func (v Verdict) String() string {
	switch v {
	case Allowed:
		return "allowed"
	case Limited:
		return "limited"
	case Abuse:
		return "abuse"
	}
	return "unknown"
}

// CommandLimiter is the shared, immutable policy of every connection's
// CommandBucket: the sustained rate, the burst and the grace.
type CommandLimiter struct {
	off     bool
	rate    gcra.Rate
	calm    int64 // (burst/2) × interval: a bucket this close to now is at least half full
	grace   int64 // ns
	strikes int32 // limited commands allowed in one episode
}

// NewCommandLimiter returns the policy of c, which must be validated.
func NewCommandLimiter(c Config) *CommandLimiter {
	if c.CommandsPerSecond == Off {
		return &CommandLimiter{off: true}
	}
	r := gcra.New(c.CommandsPerSecond, c.CommandBurst)
	grace := c.CommandGrace
	strikes := math.Ceil(c.CommandsPerSecond * grace.Seconds())
	return &CommandLimiter{
		rate:    r,
		calm:    r.Interval * int64(c.CommandBurst/2),
		grace:   int64(grace),
		strikes: int32(max(float64(c.CommandBurst), min(strikes, math.MaxInt32/2))),
	}
}

// CommandBucket is one connection's command rate limit, meant to be
// embedded in the connection's state: 32 bytes, against 80 for a
// rate.Limiter plus its pointer. Init it before use; the zero value allows
// everything. It is safe for concurrent use (its state is atomic), though
// a connection's commands normally arrive one at a time. It must not be
// copied after Init.
//
// It is a token bucket of command_burst tokens refilled at
// commands_per_second (kept as GCRA's theoretical arrival time, one int64).
// Take answers Allowed while a token is left and Limited otherwise; a
// limited command takes no token, so a client that slows down is served
// again at the full rate.
//
// Abuse: an over-limit episode begins at the first Limited command and ends
// at the first Allowed command that finds the bucket at least half full
// (the client paused long enough). Take answers Abuse, instead of Limited,
// when a limited command arrives more than command_grace after its episode
// began, or when the episode has seen more than
// max(command_burst, commands_per_second × command_grace) limited commands
// (500 by default). So a flood is cut off within a fraction of a second,
// and a client that keeps sending a little too fast once the grace has
// passed. Once Abuse, a bucket keeps answering Abuse for limited commands:
// close the connection.
type CommandBucket struct {
	l *CommandLimiter
	// tat is the theoretical arrival time (monotime): the bucket
	// is full when tat <= now and empty when tat > now + tol - interval.
	tat atomic.Int64
	// since is the current episode's start (monotime); 0: none.
	since atomic.Int64
	// strikes counts the current episode's limited commands.
	strikes atomic.Int32
}

// Init attaches the bucket to its policy and fills it. Call it once,
// before the connection's first Take.
func (b *CommandBucket) Init(l *CommandLimiter) {
	b.l = l
	b.tat.Store(0)
	b.since.Store(0)
	b.strikes.Store(0)
}

// Take accounts for one command received at now.
func (b *CommandBucket) Take(now time.Time) Verdict {
	l := b.l
	if l == nil || l.off {
		return Allowed
	}
	t := monotime.Of(now)
	for {
		old := b.tat.Load()
		next, ok := l.rate.Take(old, t)
		if !ok {
			return b.limited(t)
		}
		if b.tat.CompareAndSwap(old, next) {
			if max(old, t)-t <= l.calm && b.since.Load() != 0 {
				b.since.Store(0)
				b.strikes.Store(0)
			}
			return Allowed
		}
	}
}

// limited records a limited command at t and says whether it is abuse.
func (b *CommandBucket) limited(t int64) Verdict {
	l := b.l
	since := b.since.Load()
	if since == 0 {
		if b.since.CompareAndSwap(0, t) {
			since = t
		} else {
			since = b.since.Load()
		}
	}
	n := b.strikes.Add(1)
	if n < 0 { // saturate rather than wrap after 2^31 limited commands
		b.strikes.Store(math.MaxInt32)
		n = math.MaxInt32
	}
	if n > l.strikes || (since != 0 && t-since > l.grace) {
		return Abuse
	}
	return Limited
}
