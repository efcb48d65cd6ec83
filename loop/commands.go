package loop

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"wsfan/codec"
	"wsfan/index"
	"wsfan/lib/bytespool"
	"wsfan/limits"
	"wsfan/ws"
)

// onMessage handles one client message. It runs on the connection's nbio
// executor, in order; data is recycled when it returns (codec.Decode
// copies).
func (s *Server) onMessage(c *client, op byte, data []byte) {
	s.m.commands.Inc()
	switch c.takeCommand() {
	case limits.Limited:
		var cmd codec.Command
		_ = codec.Decode(data, &cmd) // best effort, for the id
		c.replyError(cmd.ID, codec.CodeRateLimited, "too many commands; slow down")
		return
	case limits.Abuse:
		return
	}
	if op != ws.OpText {
		c.replyError("", codec.CodeBadRequest, "frames must be text frames holding one JSON object")
		return
	}
	var cmd codec.Command
	if err := codec.Decode(data, &cmd); err != nil {
		code, msg := codec.CodeBadRequest, "malformed command"
		if e, ok := err.(*codec.Error); ok {
			code, msg = e.Code, e.Message
		}
		c.replyError(cmd.ID, code, msg)
		return
	}
	if n := len(cmd.Channels); n > s.cfg.MaxChannelsPerCommand {
		// Refused whole: the ack of so many channels could pass
		// max_pending_bytes by itself.
		c.replyError(cmd.ID, codec.CodeTooManySubscriptions,
			fmt.Sprintf("the command names %d channels; max_channels_per_command is %d", n, s.cfg.MaxChannelsPerCommand))
		return
	}
	switch cmd.Type {
	case codec.CmdSubscribe:
		c.subscribe(&cmd)
	case codec.CmdUnsubscribe:
		c.unsubscribe(&cmd)
	case codec.CmdHeartbeat:
		c.reply(func(dst []byte) []byte { return codec.AppendPong(dst, cmd.ID, time.Now().UnixMilli()) })
	}
}

// onPing answers a WebSocket ping with a pong echoing its payload. Pings
// count against the command rate: a flood gets no pongs, then the close
// that a command flood gets. It runs on the connection's nbio executor.
func (s *Server) onPing(c *client, payload []byte) {
	if c.takeCommand() != limits.Allowed {
		return
	}
	var b [2 + ws.MaxControlPayload]byte
	c.enqueue(append(ws.AppendFrameHeader(b[:0], ws.OpPong, len(payload)), payload...))
}

// takeCommand takes one command (or ping) from c's rate limit and counts
// the verdict; on Abuse it also closes c with 1008 "rate limited".
func (c *client) takeCommand() limits.Verdict {
	s := c.srv
	v := c.cmds.Take(time.Now())
	switch v {
	case limits.Limited:
		s.m.rateLimited.Inc()
	case limits.Abuse:
		if c.requestClose(codec.ClosePolicyViolation, codec.CloseReasonRateLimited, false) {
			s.m.rateAbuse.Inc()
		}
	}
	return v
}

// msgInvalidChannel is the rejection message of a malformed name.
const msgInvalidChannel = "invalid channel name: tokens of [A-Za-z0-9_-] joined by '.' ('*' for one token, a final '>' for the rest), at most 128 bytes and 16 tokens"

// subscribe adds cmd's channels and queues the ack. Every channel is
// checked first (name, rules, the subscription limit): only a channel that
// passed gets an entry, or memory. Then the entries of the channels it
// subscribes (new ones, and history channels it holds, whose positions the
// ack reports) are locked in lock order, and c.mu with them, while the
// members are added, the ack is queued and the missed publications after
// it: no publication of a new channel can reach the client before its ack,
// and position, replay and live publications form one gapless sequence.
func (c *client) subscribe(cmd *codec.Command) {
	s := c.srv
	pol := s.policy.Load()
	var (
		subscribed []string
		rejected   []codec.Rejection
		fresh      = map[string]bool{} // subscribed and not held before
	)
	reject := func(ch, code, msg string) {
		rejected = append(rejected, codec.Rejection{Channel: ch, Code: code, Message: msg})
	}
	seen := make(map[string]struct{}, len(cmd.Channels))
	held := c.subs.len() // c.subs changes on this executor only
	for _, ch := range cmd.Channels {
		if _, dup := seen[ch]; dup {
			continue
		}
		seen[ch] = struct{}{}
		if !index.ValidPattern(ch) {
			reject(ch, codec.CodeInvalidChannel, msgInvalidChannel)
			continue
		}
		if ok, why := pol.allow(c.ident, ch); !ok {
			s.m.forbidden.Inc()
			reject(ch, codec.CodeForbidden, why)
			continue
		}
		if c.subs.get(ch) == nil {
			if held >= s.cfg.MaxSubscriptionsPerConn {
				reject(ch, codec.CodeTooManySubscriptions, "the connection has reached max_subscriptions_per_conn")
				continue
			}
			held++
			fresh[ch] = true
		}
		subscribed = append(subscribed, ch)
	}

	// The entries to lock: new subscriptions, and held channels whose
	// history position the ack reports.
	var names []string
	for _, ch := range subscribed {
		if fresh[ch] || (!index.IsPattern(ch) && s.historyEnabled(ch)) {
			names = append(names, ch)
		}
	}
	locked := s.lockChannels(names)
	defer unlockChannels(locked)

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone {
		return
	}
	for _, ch := range locked {
		if fresh[ch.Name()] {
			c.subs.add(ch.Add(c))
			if s.bus != nil {
				s.bus.Interest(ch.Name(), +1)
			}
		}
	}
	var (
		positions []codec.Position
		replays   []replay
		recovered = true
	)
	for _, name := range subscribed {
		ch := locked[name]
		var st *chanState
		if ch != nil && !ch.IsPattern() {
			if st = s.prepare(ch); !st.histOn {
				st = nil
			}
		}
		if st != nil {
			positions = append(positions, codec.Position{Channel: name, Epoch: st.epoch, Seq: st.seq})
		}
		since, asked := cmd.Since[name]
		switch {
		case !asked || !fresh[name]:
			// Nothing to recover: no position given, or the connection
			// already receives the channel live.
		case st == nil || !s.sameNumbering(since, st):
			recovered = false
		default:
			replays = append(replays, replay{st: st, after: since.Seq})
		}
	}
	// Every position must still be in history, else nothing is replayed
	// for it and the client refetches.
	notBefore := time.Now().Add(-s.cfg.History.TTL).UnixNano()
	for i := range replays {
		r := &replays[i]
		r.ok = r.after == r.st.seq || (r.st.hist != nil && r.st.hist.holds(r.after, r.st.seq, notBefore))
		recovered = recovered && r.ok
	}
	var rec *bool
	if positions != nil || len(cmd.Since) > 0 {
		rec = &recovered
		if len(cmd.Since) > 0 {
			if recovered {
				s.m.recovered.Inc()
			} else {
				s.m.notRecovered.Inc()
			}
		}
	}
	count := c.subs.len()
	c.replyLocked(func(dst []byte) []byte {
		return codec.AppendSubscriptionAck(dst, cmd.ID, subscribed, rejected, count, positions, rec)
	})
	for _, r := range replays {
		if r.ok && r.after != r.st.seq {
			r.st.hist.each(r.after, r.st.seq, func(frame []byte) { c.enqueueLocked(frame) })
		}
	}
}

// replay is a channel whose missed publications a subscribe replays.
type replay struct {
	st    *chanState
	after uint64
	ok    bool
}

// unsubscribe removes cmd's channels. Each distinct requested channel is
// listed in the ack: after it, the connection holds none of them, whether
// or not it held them before. The entries it held are locked (in lock
// order) across the removal and the ack, so no publication of them can
// follow the ack.
func (c *client) unsubscribe(cmd *codec.Command) {
	s := c.srv
	unsubscribed := make([]string, 0, len(cmd.Channels))
	var names []string
	seen := make(map[string]struct{}, len(cmd.Channels))
	for _, ch := range cmd.Channels {
		if _, dup := seen[ch]; dup {
			continue
		}
		seen[ch] = struct{}{}
		unsubscribed = append(unsubscribed, ch)
		if c.subs.get(ch) != nil {
			names = append(names, ch)
		}
	}
	locked := s.lockChannels(names)
	defer unlockChannels(locked)

	c.mu.Lock()
	var gone []*sub
	for _, name := range names {
		if h := c.subs.remove(name); h != nil {
			gone = append(gone, h)
		}
	}
	count := c.subs.len()
	c.replyLocked(func(dst []byte) []byte {
		return codec.AppendUnsubscriptionAck(dst, cmd.ID, unsubscribed, count)
	})
	c.mu.Unlock()
	now := time.Now().UnixNano()
	for _, h := range gone {
		s.leaveLocked(h, now)
		if s.bus != nil {
			s.bus.Interest(h.Channel().Name(), -1)
		}
	}
}

// lockChannels acquires the entries of names (valid, distinct), creating
// the missing ones, in lock order: channels before patterns, each by name
// (index's lock order). unlockChannels releases them.
func (s *Server) lockChannels(names []string) map[string]*channel {
	if len(names) == 0 {
		return nil
	}
	order := slices.Clone(names)
	slices.SortFunc(order, func(a, b string) int {
		if pa, pb := index.IsPattern(a), index.IsPattern(b); pa != pb {
			if pa {
				return 1
			}
			return -1
		}
		return strings.Compare(a, b)
	})
	locked := make(map[string]*channel, len(order))
	for _, name := range order {
		locked[name] = s.idx.Acquire(name)
	}
	return locked
}

func unlockChannels(locked map[string]*channel) {
	for _, ch := range locked {
		ch.Unlock()
	}
}

func (c *client) replyError(id, code, msg string) {
	c.reply(func(dst []byte) []byte { return codec.AppendError(dst, id, code, msg) })
}

// reply queues one text frame whose payload encode appends.
func (c *client) reply(encode func([]byte) []byte) {
	c.mu.Lock()
	c.replyLocked(encode)
	c.mu.Unlock()
}

func (c *client) replyLocked(encode func([]byte) []byte) {
	payload := bytespool.Get()
	frame := bytespool.Get()
	*payload = encode((*payload)[:0])
	*frame = ws.AppendTextFrame((*frame)[:0], *payload)
	c.enqueueLocked(*frame)
	bytespool.Put(payload)
	bytespool.Put(frame)
}
