package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
	"wsfan/ws/wstest"
)

// refDecode is a reference model of Decode built on encoding/json's generic
// decoding (whose map keys are case-sensitive and whose repeated keys keep
// the last value): it reports whether Decode should accept b and, if so, the
// command it should produce.
func refDecode(b []byte) (Command, bool) {
	var top map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if !json.Valid(b) || d.Decode(&top) != nil || top == nil { // Valid rules out trailing bytes
		return Command{}, false
	}
	var cmd Command
	if v, ok := top["id"]; ok && v != nil {
		s, ok := v.(string)
		if !ok || len(s) > MaxIDLen {
			return Command{}, false
		}
		cmd.ID = s
	}
	switch top["type"] {
	case "subscribe":
		cmd.Type = CmdSubscribe
	case "unsubscribe":
		cmd.Type = CmdUnsubscribe
	case "heartbeat":
		cmd.Type = CmdHeartbeat
		return cmd, true
	default:
		return Command{}, false
	}
	data, _ := top["data"].(map[string]any)
	chans, _ := data["channels"].([]any)
	if len(chans) == 0 {
		return Command{}, false
	}
	for _, c := range chans {
		s, ok := c.(string)
		if !ok {
			return Command{}, false
		}
		cmd.Channels = append(cmd.Channels, s)
	}
	since, ok := data["since"]
	if !ok || since == nil || cmd.Type != CmdSubscribe {
		return cmd, true
	}
	sm, ok := since.(map[string]any)
	if !ok {
		return Command{}, false
	}
	for ch, v := range sm {
		pos, _ := v.(map[string]any)
		epoch, ok1 := pos["epoch"].(string)
		seq, ok2 := pos["seq"].(json.Number)
		n, ok3 := parseUint([]byte(seq))
		if pos == nil || !ok1 || !ok2 || !ok3 {
			return Command{}, false
		}
		if cmd.Since == nil {
			cmd.Since = make(map[string]Since)
		}
		cmd.Since[ch] = Since{Epoch: epoch, Seq: n}
	}
	return cmd, true
}

var decodeSeeds = []string{
	`{"type":"subscribe","id":"1","data":{"channels":["token.BTC.trade","user.42.>"]}}`,
	`{"type":"unsubscribe","id":"2","data":{"channels":["token.BTC.trade"]}}`,
	`{"type":"heartbeat"}`,
	`{"type":"subscribe","id":"7","data":{"channels":["token.BTC.trade"],"since":{"token.BTC.trade":{"epoch":"h7Qx","seq":1040}}}}`,
	`{"Type":"subscribe","data":{"channels":["a"]}}`,
	`{"type":"subscribe","data":{"channels":[]}}`,
	`{"type":"subscribe","data":{"channels":[1,"a"]}}`,
	`{"type":"s\u0075bscribe","id":"\ud800","data":{"channels":["\u00e9"],"since":{"a":{"epoch":"e","seq":-1}}}}`,
	`{"type":"heartbeat","x":[[[{"a":"\"]}"}]]],"id":null}`,
	`{"type":"subscribe","type":"heartbeat","id":"1","id":2}`,
	`{"type":"subscribe","data":{"channels":["a"],"since":{"a":{"epoch":"e","seq":18446744073709551616}}}}`,
	`{"type":"subscribe","data":{"channels":["a"],"since":{"a":1,"a":{"epoch":"e","seq":2}}}}`,
	`[1,2,3]`, `"x"`, ``, `{`, `{"type":"heartbeat"} x`, "{\"type\":\"sub\xffscribe\"}",
}

// FuzzDecode checks that Decode never panics, that what it accepts is a
// consistent command, and that it agrees with refDecode.
func FuzzDecode(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		in := bytes.Clone(b)
		var cmd Command
		err := Decode(b, &cmd)
		if !bytes.Equal(in, b) {
			t.Fatalf("Decode modified its input")
		}
		want, ok := refDecode(b)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeBadRequest || e.Message == "" {
				t.Fatalf("Decode(%q) = %v; want a BAD_REQUEST *Error", b, err)
			}
			if cmd.Type != CmdUnknown || len(cmd.Channels) != 0 || cmd.Since != nil || len(cmd.ID) > MaxIDLen {
				t.Fatalf("Decode(%q) failed but left %+v", b, cmd)
			}
			if ok {
				t.Fatalf("Decode(%q) = %v; the reference accepts it as %+v", b, err, want)
			}
			return
		}
		switch cmd.Type {
		case CmdSubscribe, CmdUnsubscribe:
			if len(cmd.Channels) == 0 {
				t.Fatalf("Decode(%q): %v without channels", b, cmd.Type)
			}
		case CmdHeartbeat:
			if len(cmd.Channels) != 0 {
				t.Fatalf("Decode(%q): heartbeat with channels", b)
			}
		default:
			t.Fatalf("Decode(%q) accepted type %v", b, cmd.Type)
		}
		if len(cmd.ID) > MaxIDLen || cmd.Since != nil && cmd.Type != CmdSubscribe {
			t.Fatalf("Decode(%q) = %+v: inconsistent", b, cmd)
		}
		if !ok {
			t.Fatalf("Decode(%q) = %+v; the reference rejects it", b, cmd)
		}
		if cmd.Type != want.Type || cmd.ID != want.ID || !slices.Equal(cmd.Channels, want.Channels) || !maps.Equal(cmd.Since, want.Since) {
			t.Fatalf("Decode(%q) = %+v; the reference gives %+v", b, cmd, want)
		}

		// Decoding again into a used Command gives the same result.
		again := Command{Type: CmdHeartbeat, ID: "old", Channels: []string{"x", "y", "z"}, Since: map[string]Since{"x": {}}}
		if Decode(b, &again) != nil || again.Type != cmd.Type || again.ID != cmd.ID || !slices.Equal(again.Channels, cmd.Channels) || !maps.Equal(again.Since, cmd.Since) {
			t.Fatalf("Decode(%q) into a used Command = %+v; want %+v", b, again, cmd)
		}
	})
}

// refDecodePublish is a reference model of DecodePublish built on
// encoding/json.
func refDecodePublish(body []byte) ([]Publication, bool) {
	if !json.Valid(body) || !utf8.Valid(body) {
		return nil, false
	}
	var objs []map[string]json.RawMessage
	if t := bytes.TrimLeft(body, " \t\r\n"); t[0] == '[' {
		if json.Unmarshal(body, &objs) != nil || len(objs) == 0 {
			return nil, false
		}
	} else {
		var obj map[string]json.RawMessage
		if json.Unmarshal(body, &obj) != nil || obj == nil {
			return nil, false
		}
		objs = append(objs, obj)
	}
	var pubs []Publication
	for _, o := range objs {
		var ch string
		data, ok := o["data"]
		if o == nil || json.Unmarshal(o["channel"], &ch) != nil || string(o["channel"]) == "null" || !ok {
			return nil, false
		}
		p := Publication{Channel: ch, Data: data}
		if id, ok := o["id"]; ok && string(id) != "null" {
			if json.Unmarshal(id, &p.ID) != nil {
				return nil, false // not a string
			}
		}
		pubs = append(pubs, p)
	}
	return pubs, true
}

// FuzzDecodePublish checks that DecodePublish never panics, that the data it
// accepts is valid JSON, and that it agrees with refDecodePublish.
func FuzzDecodePublish(f *testing.F) {
	for _, s := range []string{
		`{"channel":"token.BTC.trade","data":{"price":"43250.5"}}`,
		`[{"channel":"a","data":1},{"channel":"b","data":null}]`,
		`{"channel":"a","data": [ 1 , "x" ] }`,
		`{"channel":"a"}`, `{"data":1}`, `[]`, `[1]`, `[{"channel":1,"data":1}]`,
		`{"Channel":"a","Data":1,"channel":"b","data":"\u00e9"}`,
		`{"channel":"a","data":1} x`, "{\"channel\":\"a\",\"data\":\"\xff\"}", ``, `null`,
		`[{"channel":"a","data":1,"id":"o-1"},{"channel":"a","data":2,"id":null},{"id":7,"channel":"a","data":3}]`,
		`{"channel":"a","data":1,"id":"\u00e9\ud800","id":"x"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		in := bytes.Clone(body)
		pubs, err := DecodePublish(body)
		if !bytes.Equal(in, body) {
			t.Fatalf("DecodePublish modified its input")
		}
		want, ok := refDecodePublish(body)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeBadRequest || pubs != nil {
				t.Fatalf("DecodePublish(%q) = %v, %v; want a BAD_REQUEST *Error", body, pubs, err)
			}
			if ok {
				t.Fatalf("DecodePublish(%q) = %v; the reference accepts it", body, err)
			}
			return
		}
		if !ok || len(pubs) != len(want) {
			t.Fatalf("DecodePublish(%q) = %d publications; the reference gives %d (ok %v)", body, len(pubs), len(want), ok)
		}
		for i, p := range pubs {
			if !json.Valid(p.Data) {
				t.Fatalf("DecodePublish(%q)[%d].Data = %q: not valid JSON", body, i, p.Data)
			}
			if p.Channel != want[i].Channel || !bytes.Equal(p.Data, want[i].Data) || p.ID != want[i].ID {
				t.Fatalf("DecodePublish(%q)[%d] = {%q, %s, id %q}; the reference gives {%q, %s, id %q}",
					body, i, p.Channel, p.Data, p.ID, want[i].Channel, want[i].Data, want[i].ID)
			}
		}
	})
}

// FuzzAppendJSONString checks that AppendJSONString always writes valid JSON
// that decodes back to its input (with invalid UTF-8 bytes as U+FFFD), that
// jsonStringLen agrees with it, and that AppendMessageFrame's header matches
// its payload for any channel.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{
		"", "token.BTC.trade", `"\`, "\n\r\t\b\f\x00\x1f\x7f", "é😀", "\u2028\u2029",
		"\xff", "\xe6\x97", "\xed\xa0\x80", "\uFFFD", "<>&", strings.Repeat("a", 200),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := AppendJSONString([]byte("x"), s)[1:]
		if !json.Valid(b) || !utf8.Valid(b) {
			t.Fatalf("AppendJSONString(%q) = %q: not valid JSON in UTF-8", s, b)
		}
		var back string
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("AppendJSONString(%q) = %q: %v", s, b, err)
		}
		if back != string([]rune(s)) || utf8.ValidString(s) && back != s {
			t.Fatalf("AppendJSONString(%q) decodes to %q", s, back)
		}
		if n := jsonStringLen(s); n != len(b) {
			t.Fatalf("jsonStringLen(%q) = %d; AppendJSONString wrote %d bytes", s, n, len(b))
		}
		lo, hi := messageLenBounds(s, 0, []byte("{}"))
		for _, n := range []int{messageLen(s, 0, 0, 0, []byte("{}")), messageLen(s, math.MaxUint64, 0, math.MinInt64, []byte("{}"))} {
			if n < lo || n > hi {
				t.Fatalf("messageLen(%q) = %d; outside messageLenBounds [%d, %d]", s, n, lo, hi)
			}
		}
		frame := AppendMessageFrame(nil, s, 1, 2, []byte(`{}`))
		fr, rest := wstest.MustSplit(t, frame)
		if len(rest) != 0 || !json.Valid(fr.Payload) {
			t.Fatalf("AppendMessageFrame(%q): bad frame % x", s, frame)
		}
	})
}
