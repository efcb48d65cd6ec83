package codec

import (
	"encoding/json"
	"fmt"
)

// CommandType is the type of a client command.
type CommandType uint8

// Command types; CmdUnknown is the zero value and never returned with a nil error.
const (
	CmdUnknown CommandType = iota
	CmdSubscribe
	CmdUnsubscribe
	CmdHeartbeat
)

// String returns the wire name of t ("subscribe", ...), or "unknown".
func (t CommandType) String() string {
	switch t {
	case CmdSubscribe:
		return "subscribe"
	case CmdUnsubscribe:
		return "unsubscribe"
	case CmdHeartbeat:
		return "heartbeat"
	}
	return "unknown"
}

// MaxIDLen is the longest command id a client may send, in bytes (decoded).
const MaxIDLen = 64

// Since is a recovery position a client sends with subscribe: the epoch and
// the last seq it saw on a channel.
type Since struct {
	Epoch string
	Seq   uint64
}

// Command is one decoded client frame. Decode resets every field.
type Command struct {
	Type CommandType
	// ID is the optional command id, at most MaxIDLen bytes; "" when absent.
	ID string
	// Channels is data.channels of subscribe and unsubscribe: non-empty, in
	// the client's order, duplicates kept, names not validated. Decode
	// reuses its backing array: a caller that keeps the slice (not just the
	// strings) past the next Decode into the same Command must copy it.
	Channels []string
	// Since is data.since of subscribe, keyed by channel as the client wrote
	// it; nil when absent or empty, and always nil for other types.
	Since map[string]Since
}

// Decode parses one client frame into cmd, resetting every field first.
//
// The frame must be one JSON object. Keys are matched case-sensitively,
// unknown fields are ignored, a repeated key counts once (the last one), and
// a field whose value is null counts as absent. On failure Decode returns a
// *Error with CodeBadRequest and a message a client can read; cmd then holds
// only ID, set when the frame is JSON and its id is valid, so the error reply
// can echo it. Decode runs in time linear in len(b) and never panics; the
// strings it stores do not alias b.
func Decode(b []byte, cmd *Command) error {
	clear(cmd.Channels)
	*cmd = Command{Channels: cmd.Channels[:0]}
	if err := decode(b, cmd); err != nil {
		clear(cmd.Channels)
		*cmd = Command{ID: cmd.ID, Channels: cmd.Channels[:0]}
		return err
	}
	return nil
}

func decode(b []byte, cmd *Command) *Error {
	if !json.Valid(b) {
		return badRequest("not JSON")
	}
	i := skipWS(b, 0)
	if b[i] != '{' { // Valid guarantees a value at i
		return badRequest("not a JSON object")
	}
	var v [3][]byte // raw values; nil when absent or null
	fields(b[i:], []string{"type", "id", "data"}, v[:])
	typ, id, data := v[0], v[1], v[2]

	if id != nil {
		if !isString(id) {
			return badRequest("field id must be a string")
		}
		s := unquote(id)
		if len(s) > MaxIDLen {
			return badRequest(fmt.Sprintf("field id is longer than %d bytes", MaxIDLen))
		}
		cmd.ID = s
	}

	switch {
	case typ == nil:
		return badRequest("missing field type")
	case !isString(typ):
		return badRequest("field type must be a string")
	case stringIs(typ, "subscribe"):
		cmd.Type = CmdSubscribe
	case stringIs(typ, "unsubscribe"):
		cmd.Type = CmdUnsubscribe
	case stringIs(typ, "heartbeat"):
		cmd.Type = CmdHeartbeat
		return nil // heartbeat ignores data
	default:
		return badRequest(fmt.Sprintf("unknown type %q", clip(unquote(typ))))
	}
	return decodeData(data, cmd)
}

// decodeData parses data of subscribe and unsubscribe into cmd.
func decodeData(data []byte, cmd *Command) *Error {
	if data == nil {
		return badRequest("missing field data.channels")
	}
	if data[0] != '{' {
		return badRequest("field data must be an object")
	}
	var v [2][]byte
	fields(data, []string{"channels", "since"}, v[:])
	channels, since := v[0], v[1]

	if channels == nil {
		return badRequest("missing field data.channels")
	}
	if channels[0] != '[' {
		return badRequest("field data.channels must be an array of strings")
	}
	for e := newElements(channels); ; {
		v, ok := e.next()
		if !ok {
			break
		}
		if !isString(v) {
			return badRequest(fmt.Sprintf("field data.channels[%d] must be a string", len(cmd.Channels)))
		}
		cmd.Channels = append(cmd.Channels, unquote(v))
	}
	if len(cmd.Channels) == 0 {
		return badRequest("field data.channels must not be empty")
	}

	if since == nil || cmd.Type != CmdSubscribe {
		return nil
	}
	return decodeSince(since, cmd)
}

// decodeSince parses data.since: an object channel -> {"epoch":string,"seq":uint}.
// A channel repeated in the object counts once, with its last value (as
// everywhere in Decode); entries are checked in order of first appearance.
func decodeSince(since []byte, cmd *Command) *Error {
	if since[0] != '{' {
		return badRequest("field data.since must be an object")
	}
	type entry struct {
		channel string
		val     []byte
	}
	var entries []entry
	seen := make(map[string]int) // channel -> index in entries
	for m := newMembers(since); ; {
		key, val, ok := m.next()
		if !ok {
			break
		}
		ch := unquote(key)
		if i, dup := seen[ch]; dup {
			entries[i].val = val
			continue
		}
		seen[ch] = len(entries)
		entries = append(entries, entry{ch, val})
	}
	for _, e := range entries {
		ch, val := e.channel, e.val
		if val[0] != '{' {
			return badRequest(fmt.Sprintf("field data.since[%q] must be an object", clip(ch)))
		}
		var pos [2][]byte
		fields(val, []string{"epoch", "seq"}, pos[:])
		epoch, seq := pos[0], pos[1]
		if !isString(epoch) {
			return badRequest(fmt.Sprintf("field data.since[%q].epoch must be a string", clip(ch)))
		}
		n, ok := parseUint(seq)
		if !ok {
			return badRequest(fmt.Sprintf("field data.since[%q].seq must be a non-negative integer", clip(ch)))
		}
		if cmd.Since == nil {
			cmd.Since = make(map[string]Since, len(entries))
		}
		cmd.Since[ch] = Since{Epoch: unquote(epoch), Seq: n}
	}
	return nil
}
