package conn

import (
	"wsfan/codec"
	"wsfan/lib/bytespool"
)

// Latest is a message of a conflated channel, as EnqueueLatest needs it to
// re-encode the message when it replaces an unsent one.
type Latest struct {
	Channel   string
	Seq       uint64
	Conflated uint64 // the publications it already stands for
	TS        int64  // Unix milliseconds
	Data      []byte
	Accepted  int64 // UnixNano
}

// unsent is where a conflated channel's message lies in out, not yet
// handed to the socket.
type unsent struct {
	channel   string
	off, n    int
	conflated uint64
}

// EnqueueLatest enqueues frame, the message m of a conflated channel. When
// c's unsent output still holds an earlier message of that channel (the
// client reads slower than the channel delivers), that message is taken
// out and m goes in its place at the end, re-encoded plain with conflated
// counting the message it replaced and those that one stood for: the
// client stays current, and the backlog holds one message per conflated
// channel. It returns false when the frame was dropped, as Enqueue.
func (c *Conn) EnqueueLatest(frame []byte, m *Latest) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone || c.closeCode != 0 {
		return false
	}
	var old *unsent
	if c.latest != nil {
		for i := range *c.latest {
			if (*c.latest)[i].channel == m.Channel {
				old = &(*c.latest)[i]
			}
		}
	}
	if old == nil {
		off := c.outLen()
		if !c.EnqueueLocked(frame) {
			return false
		}
		c.noteUnsent(m.Channel, off, len(frame), m.Conflated)
		c.stampLocked(m.Accepted)
		return true
	}
	c.cutLocked(old)
	buf := bytespool.Get()
	defer bytespool.Put(buf)
	k := m.Conflated + 1 + old.conflated
	*buf = codec.AppendConflatedFrame((*buf)[:0], m.Channel, m.Seq, k, m.TS, m.Data)
	off := c.outLen()
	c.dropUnsent(old)
	c.env.m.replaced.Inc()
	if !c.EnqueueLocked(*buf) {
		return false
	}
	c.noteUnsent(m.Channel, off, len(*buf), k)
	return true
}

func (c *Conn) outLen() int {
	if c.out == nil {
		return 0
	}
	return len(*c.out)
}

// cutLocked removes u's bytes from out and moves the messages after it.
func (c *Conn) cutLocked(u *unsent) {
	out := *c.out
	copy(out[u.off:], out[u.off+u.n:])
	*c.out = out[:len(out)-u.n]
	for i := range *c.latest {
		if o := &(*c.latest)[i]; o.off > u.off {
			o.off -= u.n
		}
	}
}

func (c *Conn) noteUnsent(channel string, off, n int, conflated uint64) {
	if c.latest == nil {
		c.latest = new([]unsent)
	}
	*c.latest = append(*c.latest, unsent{channel: channel, off: off, n: n, conflated: conflated})
}

func (c *Conn) dropUnsent(u *unsent) {
	l := *c.latest
	i := 0
	for &l[i] != u {
		i++
	}
	l[i] = l[len(l)-1]
	*c.latest = l[:len(l)-1]
}

// stampLocked records acceptedNano as the oldest publication in out, for
// the publish-to-write latency, if out held none.
func (c *Conn) stampLocked(acceptedNano int64) {
	if c.outSince == 0 {
		c.outSince = acceptedNano
	}
}

// handedOutLocked forgets where conflated messages lay in out: out was
// handed to the socket (or dropped).
func (c *Conn) handedOutLocked() {
	if c.latest != nil {
		*c.latest = (*c.latest)[:0]
		if cap(*c.latest) > 64 {
			c.latest = nil
		}
	}
}
