package loop

import (
	"fmt"
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

// subscribe adds cmd's channels and queues the ack. c.mu is held across the
// index updates and the ack, so no publication to a new channel reaches
// the client before the ack that says it is subscribed. Channels that keep
// history are also locked (their chanState.mu, taken first and in name
// order) so that the ack's position, the replay of what the client missed
// and the live publications that follow are one gapless sequence.
func (c *client) subscribe(cmd *codec.Command) {
	s := c.srv
	var (
		subscribed []string
		rejected   []codec.Rejection
		positions  []codec.Position
		replays    []replay
	)
	reject := func(ch, code, msg string) {
		rejected = append(rejected, codec.Rejection{Channel: ch, Code: code, Message: msg})
	}

	pol := s.policy.Load()
	hist := s.lockHistoryChannels(cmd.Channels)
	defer hist.unlock()

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone {
		return
	}
	recovered := true
	seen := make(map[string]struct{}, len(cmd.Channels))
	for _, ch := range cmd.Channels {
		if _, dup := seen[ch]; dup {
			continue
		}
		seen[ch] = struct{}{}
		if !index.ValidPattern(ch) {
			reject(ch, codec.CodeInvalidChannel, "invalid channel name: tokens of [A-Za-z0-9_-] joined by '.' ('*' for one token, a final '>' for the rest), at most 128 bytes and 16 tokens")
			continue
		}
		if ok, why := pol.allow(c.ident, ch); !ok {
			s.m.forbidden.Inc()
			reject(ch, codec.CodeForbidden, why)
			continue
		}
		_, had := c.subs[ch]
		if !had && len(c.subs) >= s.cfg.MaxSubscriptionsPerConn {
			reject(ch, codec.CodeTooManySubscriptions, "the connection has reached max_subscriptions_per_conn")
			continue
		}
		if !had {
			s.idx.Subscribe(ch, c)
			c.subs[ch] = struct{}{}
			if s.bus != nil {
				s.bus.Interest(ch, +1)
			}
		}
		subscribed = append(subscribed, ch)
		st := hist.state(ch)
		if st != nil {
			positions = append(positions, codec.Position{Channel: ch, Epoch: s.epoch, Seq: st.seq})
		}
		since, asked := cmd.Since[ch]
		switch {
		case !asked || had:
			// Nothing to recover: no position given, or the connection
			// already receives the channel live.
		case st == nil || since.Epoch != s.epoch:
			recovered = false
		default:
			replays = append(replays, replay{st: st, after: since.Seq})
		}
	}
	// Every position must still be in history, else nothing is replayed
	// for it and the client refetches.
	notBefore := time.Now().Add(-s.cfg.History.TTL.D()).UnixNano()
	for i := range replays {
		r := &replays[i]
		r.ok = r.st.hist.holds(r.after, r.st.seq, notBefore)
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
	count := len(c.subs)
	c.replyLocked(func(dst []byte) []byte {
		return codec.AppendSubscriptionAck(dst, cmd.ID, subscribed, rejected, count, positions, rec)
	})
	for _, r := range replays {
		if r.ok {
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
// or not it held them before.
func (c *client) unsubscribe(cmd *codec.Command) {
	s := c.srv
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone {
		return
	}
	unsubscribed := make([]string, 0, len(cmd.Channels))
	seen := make(map[string]struct{}, len(cmd.Channels))
	for _, ch := range cmd.Channels {
		if _, dup := seen[ch]; dup {
			continue
		}
		seen[ch] = struct{}{}
		if _, have := c.subs[ch]; have {
			s.idx.Unsubscribe(ch, c)
			delete(c.subs, ch)
			if s.bus != nil {
				s.bus.Interest(ch, -1)
			}
		}
		unsubscribed = append(unsubscribed, ch)
	}
	count := len(c.subs)
	c.replyLocked(func(dst []byte) []byte {
		return codec.AppendUnsubscriptionAck(dst, cmd.ID, unsubscribed, count)
	})
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
