package main

// chanStats is one connection's account of one channel. PROTOCOL.md: a
// channel's seq is consecutive for every subscriber, so after the first
// message any jump is a loss and any step back a duplicate or reorder.
// The first seq seen is not judged: a running server's channel may start
// anywhere. Messages lost after the last one received show no gap; the
// count check (missing) finds those.
type chanStats struct {
	name string
	last uint64 // last seq seen
	seen bool
	recv uint64 // messages received
	gaps uint64 // seqs skipped
	dups uint64 // seqs not above the last one
}

// observe accounts one message with sequence number seq.
func (c *chanStats) observe(seq uint64) {
	c.recv++
	switch {
	case !c.seen:
		c.seen = true
		c.last = seq
	case seq == c.last+1:
		c.last = seq
	case seq > c.last+1:
		c.gaps += seq - c.last - 1
		c.last = seq
	default:
		c.dups++
	}
}

// restart begins a new stream (a new connection of the slot): the next
// seq is not judged against the last one.
func (c *chanStats) restart() { c.seen = false }

// missing returns how many of accepted publications on the channel the
// connection did not receive (0 when it received as many or more).
func (c *chanStats) missing(accepted uint64) uint64 {
	if c.recv >= accepted {
		return 0
	}
	return accepted - c.recv
}

// lossTotals sums the loss accounting of many channels.
type lossTotals struct {
	Expected   uint64 `json:"expected"`    // publications accepted on subscribed channels
	Received   uint64 `json:"received"`    // messages received on them
	Missing    uint64 `json:"missing"`     // expected - received, per channel, summed where positive
	Extra      uint64 `json:"extra"`       // received - expected where positive (another publisher?)
	Gaps       uint64 `json:"gaps"`        // seq gaps
	Dups       uint64 `json:"dups"`        // duplicates or reorders
	LossyConns uint64 `json:"lossy_conns"` // connections with missing or gaps
}

// addConn adds one connection's channels, given the publications accepted
// per channel during the run.
func (t *lossTotals) addConn(chans []chanStats, accepted map[string]uint64) {
	lossy := false
	for i := range chans {
		c := &chans[i]
		exp := accepted[c.name]
		t.Expected += exp
		t.Received += c.recv
		if m := c.missing(exp); m > 0 {
			t.Missing += m
			lossy = true
		} else {
			t.Extra += c.recv - exp
		}
		t.Gaps += c.gaps
		t.Dups += c.dups
		if c.gaps > 0 {
			lossy = true
		}
	}
	if lossy {
		t.LossyConns++
	}
}

func (t *lossTotals) add(o lossTotals) {
	t.Expected += o.Expected
	t.Received += o.Received
	t.Missing += o.Missing
	t.Extra += o.Extra
	t.Gaps += o.Gaps
	t.Dups += o.Dups
	t.LossyConns += o.LossyConns
}
