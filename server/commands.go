package server

import (
	"fmt"
	"time"

	"wsfan/codec"
	"wsfan/conn"
	"wsfan/index"
	"wsfan/limits"
	"wsfan/ws"
)

// handler is the Server as its connections' conn.Handler: its methods run
// on the connection's nbio executor, in order.
type handler Server

// Message handles one client command; data is recycled when it returns
// (codec.Decode copies).
func (hd *handler) Message(c *conn.Conn, op byte, data []byte) {
	s := (*Server)(hd)
	s.m.commands.Inc()
	switch s.takeCommand(c) {
	case limits.Limited:
		var cmd codec.Command
		_ = codec.Decode(data, &cmd) // best effort, for the id
		c.ReplyError(cmd.ID, codec.CodeRateLimited, "too many commands; slow down")
		return
	case limits.Abuse:
		return
	}
	if op != ws.OpText {
		c.ReplyError("", codec.CodeBadRequest, "frames must be text frames holding one JSON object")
		return
	}
	var cmd codec.Command
	if err := codec.Decode(data, &cmd); err != nil {
		code, msg := codec.CodeBadRequest, "malformed command"
		if e, ok := err.(*codec.Error); ok {
			code, msg = e.Code, e.Message
		}
		c.ReplyError(cmd.ID, code, msg)
		return
	}
	if n := len(cmd.Channels); n > s.cfg.MaxChannelsPerCommand {
		// Refused whole: the ack of so many channels could pass
		// max_pending_bytes by itself.
		c.ReplyError(cmd.ID, codec.CodeTooManySubscriptions,
			fmt.Sprintf("the command names %d channels; max_channels_per_command is %d", n, s.cfg.MaxChannelsPerCommand))
		return
	}
	switch cmd.Type {
	case codec.CmdSubscribe:
		s.subscribe(c, &cmd)
	case codec.CmdUnsubscribe:
		s.hub.Unsubscribe(c, cmd.ID, cmd.Channels)
	case codec.CmdHeartbeat:
		c.Reply(func(dst []byte) []byte { return codec.AppendPong(dst, cmd.ID, time.Now().UnixMilli()) })
	}
}

// Ping answers a WebSocket ping with a pong echoing its payload. Pings
// count against the command rate: a flood gets no pongs, then the close
// that a command flood gets.
func (hd *handler) Ping(c *conn.Conn, payload []byte) {
	if (*Server)(hd).takeCommand(c) == limits.Allowed {
		c.Pong(payload)
	}
}

// Closed leaves a closed connection's subscriptions and forgets it.
func (hd *handler) Closed(c *conn.Conn, subs conn.Subs) {
	s := (*Server)(hd)
	s.hub.Leave(subs)
	s.reg.remove(c)
	s.perIP.Release(c.IP())
	if s.conns.Add(-1) == 0 && s.draining.Load() {
		s.emptyOnce.Do(func() { close(s.empty) })
	}
}

// takeCommand takes one command (or ping) from c's rate limit and counts
// the verdict; on Abuse it also closes c with 1008 "rate limited".
func (s *Server) takeCommand(c *conn.Conn) limits.Verdict {
	v := c.TakeCommand(time.Now())
	switch v {
	case limits.Limited:
		s.m.rateLimited.Inc()
	case limits.Abuse:
		if c.RequestClose(codec.ClosePolicyViolation, codec.CloseReasonRateLimited, false) {
			s.m.rateAbuse.Inc()
		}
	}
	return v
}

// msgInvalidChannel is the rejection message of a malformed name.
const msgInvalidChannel = "invalid channel name: tokens of [A-Za-z0-9_-] joined by '.' ('*' for one token, a final '>' for the rest), at most 128 bytes and 16 tokens"

// subscribe checks every channel of cmd first (name, rules, the
// subscription limit), so that only a channel that passed gets an entry, or
// memory; the hub subscribes those and queues the ack.
func (s *Server) subscribe(c *conn.Conn, cmd *codec.Command) {
	pol := s.policy.Load()
	var (
		subscribed []string
		rejected   []codec.Rejection
	)
	reject := func(ch, code, msg string) {
		rejected = append(rejected, codec.Rejection{Channel: ch, Code: code, Message: msg})
	}
	seen := make(map[string]struct{}, len(cmd.Channels))
	subs := c.Subs() // changes on this executor only
	held := subs.Len()
	for _, ch := range cmd.Channels {
		if _, dup := seen[ch]; dup {
			continue
		}
		seen[ch] = struct{}{}
		if !index.ValidPattern(ch) {
			reject(ch, codec.CodeInvalidChannel, msgInvalidChannel)
			continue
		}
		if ok, why := pol.allow(c.Identity(), ch); !ok {
			s.m.forbidden.Inc()
			reject(ch, codec.CodeForbidden, why)
			continue
		}
		if subs.Get(ch) == nil {
			if held >= s.cfg.MaxSubscriptionsPerConn {
				reject(ch, codec.CodeTooManySubscriptions, "the connection has reached max_subscriptions_per_conn")
				continue
			}
			held++
		}
		subscribed = append(subscribed, ch)
	}
	s.hub.Subscribe(c, cmd.ID, subscribed, rejected, cmd.Since)
	if n := s.cfg.Conflation.SocketSendBuffer; n > 0 {
		for _, ch := range subscribed {
			if s.hub.MayConflate(ch) {
				c.CapSendBuffer(n)
				break
			}
		}
	}
}
