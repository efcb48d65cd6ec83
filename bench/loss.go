package main

import (
	"math"
	"strings"
	"time"
)

// chanStats is one connection's account of one channel. PROTOCOL.md: a
// channel's seq is consecutive for every subscriber, except that a
// message of a conflated channel that replaced k earlier publications
// carries "conflated": k, so each step must be exactly 1 + conflated. A
// longer step is a loss (gaps counts the seqs it skipped beyond what
// conflated explains), a step back a duplicate or reorder, a shorter one
// a conflated count that claims more than was skipped (unexplained).
// The first seq seen is not judged: a running server's channel may start
// anywhere. Messages lost after the last one received show no gap; the
// count check (missing) finds those, counting each message as the
// 1 + conflated publications it stands for.
type chanStats struct {
	name        string
	last        uint64 // last seq seen
	seen        bool
	recv        uint64 // messages received
	covered     uint64 // publications they stand for: sum of 1 + conflated
	conflated   uint64 // sum of conflated
	gaps        uint64 // seqs skipped beyond conflated
	dups        uint64 // seqs not above the last one
	unexplained uint64 // steps shorter than 1 + conflated
	lastValue   int64  // data.n of the last message; -1 none
	sec         int64  // the receipt second (Unix) being counted
	inSec       uint32 // messages received in sec
	maxPerSec   uint32 // the most messages received in one second
}

// observe accounts one message with sequence number seq that replaced
// conflated publications, carried the publisher's value number value (-1:
// none) and was received at Unix time now (ns).
func (c *chanStats) observe(seq, conflated uint64, value, now int64) {
	c.recv++
	c.covered += 1 + conflated
	c.conflated += conflated
	c.lastValue = value
	if sec := now / int64(time.Second); sec != c.sec {
		c.sec, c.inSec = sec, 0
	}
	c.inSec++
	c.maxPerSec = max(c.maxPerSec, c.inSec)
	if !c.seen {
		c.seen = true
		c.last = seq
		return
	}
	want := c.last + 1 + conflated
	switch {
	case seq == want:
		c.last = seq
	case seq <= c.last:
		c.dups++
	case seq > want:
		c.gaps += seq - want
		c.last = seq
	default: // c.last < seq < want
		c.unexplained++
		c.last = seq
	}
}

// restart begins a new stream (a new connection of the slot): the next
// seq is not judged against the last one.
func (c *chanStats) restart() { c.seen = false }

// missing returns how many of accepted publications on the channel the
// connection's messages do not stand for (0 when they cover as many or
// more).
func (c *chanStats) missing(accepted uint64) uint64 {
	if c.covered >= accepted {
		return 0
	}
	return accepted - c.covered
}

// conflation is what a load process knows of the server's conflation:
// the patterns, and how many messages per channel one subscriber may get
// in a second of receipt time.
type conflation struct {
	patterns []string
	limit    uint32 // 0: no limit checked
}

// newConflation reads -conflate and -conflate-interval (default 100ms,
// the server's): at most one message per interval, and one more for the
// trailing edge of a burst straddling a second.
func newConflation(o *options) conflation {
	c := conflation{patterns: o.Conflate}
	if len(c.patterns) > 0 {
		iv := o.ConflateInterval
		if iv <= 0 {
			iv = 100 * time.Millisecond
		}
		c.limit = uint32(math.Ceil(float64(time.Second)/float64(iv))) + 1
	}
	return c
}

// conflated reports whether channel matches one of the patterns.
func (c conflation) conflated(channel string) bool {
	for _, p := range c.patterns {
		if matchPattern(p, channel) {
			return true
		}
	}
	return false
}

// matchPattern matches a channel against a pattern with NATS subject
// semantics (PROTOCOL.md "Channels"): "*" is one token, a final ">" one or
// more.
func matchPattern(pattern, channel string) bool {
	for {
		pt, prest, pmore := strings.Cut(pattern, ".")
		if pt == ">" && !pmore {
			return channel != ""
		}
		ct, crest, cmore := strings.Cut(channel, ".")
		if ct == "" || (pt != "*" && pt != ct) {
			return false
		}
		if !pmore || !cmore {
			return !pmore && !cmore
		}
		pattern, channel = prest, crest
	}
}

// lossTotals sums the loss accounting of many channels.
type lossTotals struct {
	Expected   uint64 `json:"expected"`    // publications accepted on subscribed channels
	Received   uint64 `json:"received"`    // messages received on them
	Covered    uint64 `json:"covered"`     // publications the messages stand for (1 + conflated each)
	Missing    uint64 `json:"missing"`     // expected - covered, per channel, summed where positive
	Extra      uint64 `json:"extra"`       // covered - expected where positive (another publisher?)
	Gaps       uint64 `json:"gaps"`        // seqs skipped that conflated does not explain
	Dups       uint64 `json:"dups"`        // duplicates or reorders
	LossyConns uint64 `json:"lossy_conns"` // connections with missing, gaps or unexplained steps

	// Conflation (PROTOCOL.md): on conflated channels only.
	Conflated    uint64 `json:"conflated"`           // publications replaced, as the messages say
	Unexplained  uint64 `json:"unexplained_steps"`   // steps shorter than 1 + conflated
	MaxPerSec    uint32 `json:"max_per_s"`           // the most messages one subscriber got on one channel in one second
	OverLimit    uint64 `json:"over_limit"`          // subscriptions that got more than the limit in some second
	LimitPerSec  uint32 `json:"limit_per_s"`         // that limit: 1s / interval, + 1
	LastChecked  uint64 `json:"last_value_checked"`  // subscriptions whose last message was checked against the last published value
	LastMismatch uint64 `json:"last_value_mismatch"` // ... and did not carry it
}

// addConn adds one connection's channels, given the publications accepted
// per channel during the run, the last value (data.n) published on each
// channel when the run checks it (nil: not checked), and the server's
// conflation.
func (t *lossTotals) addConn(chans []chanStats, accepted map[string]uint64, last map[string]int64, conf conflation) {
	lossy := false
	for i := range chans {
		c := &chans[i]
		exp := accepted[c.name]
		t.Expected += exp
		t.Received += c.recv
		t.Covered += c.covered
		if m := c.missing(exp); m > 0 {
			t.Missing += m
			lossy = true
		} else {
			t.Extra += c.covered - exp
		}
		t.Gaps += c.gaps
		t.Dups += c.dups
		t.Unexplained += c.unexplained
		if c.gaps > 0 || c.unexplained > 0 {
			lossy = true
		}
		if conf.conflated(c.name) {
			t.Conflated += c.conflated
			t.MaxPerSec = max(t.MaxPerSec, c.maxPerSec)
			t.LimitPerSec = conf.limit
			if conf.limit > 0 && c.maxPerSec > conf.limit {
				t.OverLimit++
			}
		}
		if v, ok := last[c.name]; ok {
			t.LastChecked++
			if c.lastValue != v {
				t.LastMismatch++
			}
		}
	}
	if lossy {
		t.LossyConns++
	}
}

func (t *lossTotals) add(o lossTotals) {
	t.Expected += o.Expected
	t.Received += o.Received
	t.Covered += o.Covered
	t.Missing += o.Missing
	t.Extra += o.Extra
	t.Gaps += o.Gaps
	t.Dups += o.Dups
	t.LossyConns += o.LossyConns
	t.Conflated += o.Conflated
	t.Unexplained += o.Unexplained
	t.MaxPerSec = max(t.MaxPerSec, o.MaxPerSec)
	t.OverLimit += o.OverLimit
	t.LimitPerSec = max(t.LimitPerSec, o.LimitPerSec)
	t.LastChecked += o.LastChecked
	t.LastMismatch += o.LastMismatch
}
