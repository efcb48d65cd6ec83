package limits

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/time/rate"
)

// commandLimiter is a policy of 20/s, burst 40, grace 5s (the tests'
// arithmetic assumes it, whatever the shipped defaults).
func commandLimiter(t testing.TB, mutate func(*Config)) *CommandLimiter {
	t.Helper()
	c := Default()
	c.CommandsPerSecond, c.CommandBurst = 20, 40
	if mutate != nil {
		mutate(&c)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	return NewCommandLimiter(c)
}

func TestCommandBucketSize(t *testing.T) {
	var b CommandBucket
	if n := unsafe.Sizeof(b); n > 32 {
		t.Fatalf("CommandBucket is %d bytes; want <= 32", n)
	}
	t.Logf("CommandBucket: %d bytes; *rate.Limiter: 8 + %d bytes", unsafe.Sizeof(b), unsafe.Sizeof(rate.Limiter{}))
}

func TestCommandBucketBurstAndRate(t *testing.T) {
	var b CommandBucket
	b.Init(commandLimiter(t, nil))
	base := time.Now()
	f := func(at time.Duration, want Verdict) {
		t.Helper()
		if got := b.Take(base.Add(at)); got != want {
			t.Fatalf("Take(+%v) = %v; want %v", at, got, want)
		}
	}
	for range 40 {
		f(0, Allowed)
	}
	f(0, Limited)
	f(49*time.Millisecond, Limited)
	f(50*time.Millisecond, Allowed) // one token per 50ms
	f(50*time.Millisecond, Limited)
	f(100*time.Millisecond, Allowed)
	// Limited commands take no token: sending at exactly the rate from
	// here on is always allowed.
	for i := 3; i < 200; i++ {
		f(time.Duration(i)*50*time.Millisecond, Allowed)
	}
}

// TestCommandBucketFlood: a flood is cut off after
// commands_per_second × command_grace limited commands, at once.
func TestCommandBucketFlood(t *testing.T) {
	var b CommandBucket
	b.Init(commandLimiter(t, nil))
	now := time.Now()
	counts := map[Verdict]int{}
	for range 1000 {
		v := b.Take(now)
		counts[v]++
		if v == Abuse {
			break
		}
	}
	if counts[Allowed] != 40 || counts[Limited] != 100 || counts[Abuse] != 1 {
		t.Fatalf("flood: %v; want 40 allowed, 100 limited, then abuse", counts)
	}
	if v := b.Take(now.Add(time.Millisecond)); v != Abuse {
		t.Fatalf("after abuse Take = %v; want abuse again", v)
	}
}

// TestCommandBucketSlightlyOver: a client at 1.25× the rate is limited now
// and then, and closed once its episode passes the grace.
func TestCommandBucketSlightlyOver(t *testing.T) {
	var b CommandBucket
	b.Init(commandLimiter(t, nil))
	base := time.Now()
	const every = 40 * time.Millisecond // 25/s against 20/s
	var firstLimited, abuseAt time.Duration = -1, -1
	limited := 0
	for i := range 2000 {
		at := time.Duration(i) * every
		switch b.Take(base.Add(at)) {
		case Limited:
			limited++
			if firstLimited < 0 {
				firstLimited = at
			}
		case Abuse:
			abuseAt = at
		}
		if abuseAt >= 0 {
			break
		}
	}
	if firstLimited < 0 || abuseAt < 0 {
		t.Fatalf("first limited at %v, abuse at %v; want both", firstLimited, abuseAt)
	}
	if d := abuseAt - firstLimited; d <= DefaultCommandGrace || d > DefaultCommandGrace+time.Second {
		t.Fatalf("abuse %v after the first limited command; want just over %v", d, DefaultCommandGrace)
	}
	if limited > 100 {
		t.Fatalf("%d limited commands before abuse; want <= 100", limited)
	}
}

// TestCommandBucketEpisodeEnds: a client that backs off until its bucket is
// half full starts afresh.
func TestCommandBucketEpisodeEnds(t *testing.T) {
	var b CommandBucket
	b.Init(commandLimiter(t, func(c *Config) { c.CommandGrace = time.Second }))
	base := time.Now()
	at := func(d time.Duration) time.Time { return base.Add(d) }
	for range 40 {
		b.Take(at(0))
	}
	if v := b.Take(at(0)); v != Limited {
		t.Fatalf("Take past the burst = %v", v)
	}
	// Pausing 0.5s refills 10 tokens, less than half the burst: the
	// episode goes on.
	for range 10 {
		if v := b.Take(at(500 * time.Millisecond)); v != Allowed {
			t.Fatalf("Take after 0.5s = %v", v)
		}
	}
	for range 10 {
		if v := b.Take(at(1001 * time.Millisecond)); v != Allowed {
			t.Fatalf("Take after 1.001s = %v", v)
		}
	}
	if v := b.Take(at(1001 * time.Millisecond)); v != Abuse {
		t.Fatalf("limited 1.001s into a 1s-grace episode: %v; want abuse", v)
	}

	// A fresh bucket: limited, then a 2s pause (full again), then limited
	// again 10s later: no abuse, the first episode ended at the pause.
	b.Init(b.l)
	for range 41 {
		b.Take(at(0))
	}
	if v := b.Take(at(2 * time.Second)); v != Allowed {
		t.Fatalf("Take after the pause = %v", v)
	}
	for range 40 {
		b.Take(at(10 * time.Second))
	}
	if v := b.Take(at(10 * time.Second)); v != Limited {
		t.Fatalf("Take in a new episode = %v; want limited", v)
	}
}

func TestCommandBucketOff(t *testing.T) {
	var zero CommandBucket
	var off CommandBucket
	off.Init(commandLimiter(t, func(c *Config) { c.CommandsPerSecond = Off }))
	now := time.Now()
	for range 10000 {
		if zero.Take(now) != Allowed || off.Take(now) != Allowed {
			t.Fatal("limited with the limit off")
		}
	}
}

// TestCommandBucketConcurrent: concurrent Takes at one instant get exactly
// the burst.
func TestCommandBucketConcurrent(t *testing.T) {
	var b CommandBucket
	b.Init(commandLimiter(t, nil))
	now := time.Now()
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if b.Take(now) == Allowed {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := allowed.Load(); n != 40 {
		t.Fatalf("%d allowed; want the burst, 40", n)
	}
}

func TestCommandBucketNoAlloc(t *testing.T) {
	var b CommandBucket
	b.Init(commandLimiter(t, nil))
	now := time.Now()
	if n := testing.AllocsPerRun(1000, func() { b.Take(now) }); n != 0 {
		t.Fatalf("Take allocates %v times", n)
	}
}

func TestVerdictString(t *testing.T) {
	if Allowed.String() != "allowed" || Limited.String() != "limited" || Abuse.String() != "abuse" || Verdict(9).String() != "unknown" {
		t.Fatal("Verdict.String")
	}
}

func BenchmarkCommandBucket(b *testing.B) {
	l := commandLimiter(b, func(c *Config) { c.CommandsPerSecond = 1e6; c.CommandBurst = 1e6 })
	b.Run("impl=CommandBucket", func(b *testing.B) {
		var cb CommandBucket
		cb.Init(l)
		b.ReportAllocs()
		for b.Loop() {
			cb.Take(time.Now())
		}
	})
	b.Run("impl=rate.Limiter", func(b *testing.B) {
		rl := rate.NewLimiter(1e6, 1e6)
		b.ReportAllocs()
		for b.Loop() {
			rl.AllowN(time.Now(), 1)
		}
	})
}
