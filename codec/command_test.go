package codec

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
)

func TestDecodeValid(t *testing.T) {
	f := func(frame string, want Command) {
		t.Helper()
		var cmd Command
		if err := Decode([]byte(frame), &cmd); err != nil {
			t.Fatalf("Decode(%s): unexpected error %v", frame, err)
		}
		if cmd.Type != want.Type || cmd.ID != want.ID || !slices.Equal(cmd.Channels, want.Channels) || !maps.Equal(cmd.Since, want.Since) {
			t.Fatalf("Decode(%s) = %+v; want %+v", frame, cmd, want)
		}
		if (cmd.Since == nil) != (want.Since == nil) {
			t.Fatalf("Decode(%s): Since = %#v; want %#v", frame, cmd.Since, want.Since)
		}
	}
	// The frames of PROTOCOL.md.
	f(`{"type":"subscribe","id":"1","data":{"channels":["token.BTC.trade","user.42.>"]}}`,
		Command{Type: CmdSubscribe, ID: "1", Channels: []string{"token.BTC.trade", "user.42.>"}})
	f(`{"type":"unsubscribe","id":"2","data":{"channels":["token.BTC.trade"]}}`,
		Command{Type: CmdUnsubscribe, ID: "2", Channels: []string{"token.BTC.trade"}})
	f(`{"type":"heartbeat"}`, Command{Type: CmdHeartbeat})
	f(`{"type":"subscribe","id":"7","data":{"channels":["token.BTC.trade"],
 "since":{"token.BTC.trade":{"epoch":"h7Qx","seq":1040}}}}`,
		Command{Type: CmdSubscribe, ID: "7", Channels: []string{"token.BTC.trade"},
			Since: map[string]Since{"token.BTC.trade": {Epoch: "h7Qx", Seq: 1040}}})

	// Whitespace, field order, unknown fields (of any shape) ignored.
	f(" \t\r\n{ \"data\" : { \"x\" : [1,{\"channels\":5}] , \"channels\" : [ \"a\" , \"b\" ] } , \"type\" : \"subscribe\" , \"extra\":{\"id\":\"no\"} } \n",
		Command{Type: CmdSubscribe, Channels: []string{"a", "b"}})
	f(`{"type":"heartbeat","id":"h","data":{"anything":[[[]]]},"ts":1.5e3,"flag":true,"n":null}`,
		Command{Type: CmdHeartbeat, ID: "h"})
	// Heartbeat ignores data whatever its shape.
	f(`{"type":"heartbeat","data":"x"}`, Command{Type: CmdHeartbeat})
	// Unsubscribe ignores since.
	f(`{"type":"unsubscribe","data":{"channels":["a"],"since":{"a":{"epoch":"e","seq":1}}}}`,
		Command{Type: CmdUnsubscribe, Channels: []string{"a"}})
	// null counts as absent for optional fields.
	f(`{"type":"subscribe","id":null,"data":{"channels":["a"],"since":null}}`,
		Command{Type: CmdSubscribe, Channels: []string{"a"}})
	// Empty since is nil; several entries; seq extremes; extra since fields ignored.
	f(`{"type":"subscribe","data":{"channels":["a"],"since":{}}}`,
		Command{Type: CmdSubscribe, Channels: []string{"a"}})
	f(`{"type":"subscribe","data":{"channels":["a","b"],"since":{"a":{"epoch":"","seq":0,"x":1},"b":{"seq":18446744073709551615,"epoch":"E"}}}}`,
		Command{Type: CmdSubscribe, Channels: []string{"a", "b"},
			Since: map[string]Since{"a": {}, "b": {Epoch: "E", Seq: 1<<64 - 1}}})
	// Repeated keys: the last one counts, in since too.
	f(`{"type":"subscribe","data":{"channels":["a"],"since":{"a":1,"b":{"epoch":"x","seq":1},"a":{"epoch":"e","seq":2}}}}`,
		Command{Type: CmdSubscribe, Channels: []string{"a"}, Since: map[string]Since{"a": {Epoch: "e", Seq: 2}, "b": {Epoch: "x", Seq: 1}}})
	f(`{"type":"unsubscribe","type":"heartbeat","id":"1","id":"2"}`, Command{Type: CmdHeartbeat, ID: "2"})
	// Escapes are decoded, in keys and values alike.
	f(`{"typ\u0065":"s\u0075bscribe","id":"\"q\"\n","data":{"channels":["a\/b","\u00e9\ud83d\ude00"]}}`,
		Command{Type: CmdSubscribe, ID: "\"q\"\n", Channels: []string{"a/b", "é😀"}})
	// Channels are not validated here; duplicates are kept.
	f(`{"type":"subscribe","data":{"channels":["","a..b","a","a"]}}`,
		Command{Type: CmdSubscribe, Channels: []string{"", "a..b", "a", "a"}})
	// Invalid UTF-8 and lone surrogates become U+FFFD.
	f("{\"type\":\"subscribe\",\"data\":{\"channels\":[\"a\xffb\",\"\\ud800\"]}}",
		Command{Type: CmdSubscribe, Channels: []string{"a\uFFFDb", "\uFFFD"}})
	// id of exactly MaxIDLen bytes.
	id64 := strings.Repeat("x", MaxIDLen)
	f(`{"type":"heartbeat","id":"`+id64+`"}`, Command{Type: CmdHeartbeat, ID: id64})
}

func TestDecodeBadRequest(t *testing.T) {
	f := func(frame, wantID, wantMessage string) {
		t.Helper()
		cmd := Command{Type: CmdSubscribe, ID: "stale", Channels: []string{"stale"}, Since: map[string]Since{"stale": {}}}
		err := Decode([]byte(frame), &cmd)
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("Decode(%s) = %v; want *Error", frame, err)
		}
		if e.Code != CodeBadRequest || e.Message != wantMessage {
			t.Fatalf("Decode(%s) = %q %q; want %q %q", frame, e.Code, e.Message, CodeBadRequest, wantMessage)
		}
		if cmd.ID != wantID || cmd.Type != CmdUnknown || len(cmd.Channels) != 0 || cmd.Since != nil {
			t.Fatalf("Decode(%s) left cmd = %+v; want only ID %q", frame, cmd, wantID)
		}
	}
	f(``, "", "not JSON")
	f(`   `, "", "not JSON")
	f(`{"type":"heartbeat"`, "", "not JSON")
	f(`{"type":"heartbeat"} {}`, "", "not JSON")
	f(`{"type":"heartbeat",}`, "", "not JSON")
	f(`{'type':'heartbeat'}`, "", "not JSON")
	f("{\"type\":\"heart\x01beat\"}", "", "not JSON")
	f(`[{"type":"heartbeat"}]`, "", "not a JSON object")
	f(`"heartbeat"`, "", "not a JSON object")
	f(`null`, "", "not a JSON object")
	f(`42`, "", "not a JSON object")

	f(`{}`, "", "missing field type")
	f(`{"id":"5"}`, "5", "missing field type")
	f(`{"type":null,"id":"5"}`, "5", "missing field type")
	// Keys are case-sensitive.
	f(`{"Type":"subscribe","data":{"channels":["a"]}}`, "", "missing field type")
	f(`{"TYPE":"heartbeat","ID":"1"}`, "", "missing field type")
	f(`{"type":"Subscribe","id":"9"}`, "9", `unknown type "Subscribe"`)
	f(`{"type":"publish","id":"9"}`, "9", `unknown type "publish"`)
	f(`{"type":"","id":"9"}`, "9", `unknown type ""`)
	f(`{"type":"`+strings.Repeat("é", 100)+`"}`, "", `unknown type "`+strings.Repeat("é", 32)+`..."`)
	f(`{"type":1}`, "", "field type must be a string")
	f(`{"type":["subscribe"],"id":"3"}`, "3", "field type must be a string")

	// id problems: never echoed.
	f(`{"type":"heartbeat","id":1}`, "", "field id must be a string")
	f(`{"type":"heartbeat","id":{"a":"b"}}`, "", "field id must be a string")
	f(`{"type":"heartbeat","id":"`+strings.Repeat("x", MaxIDLen+1)+`"}`, "", "field id is longer than 64 bytes")
	f(`{"type":"heartbeat","id":"`+strings.Repeat(`\u00e9`, MaxIDLen/2+1)+`"}`, "", "field id is longer than 64 bytes")

	// data and data.channels, with the id echoed.
	for _, typ := range []string{"subscribe", "unsubscribe"} {
		pre := `{"type":"` + typ + `","id":"x"`
		f(pre+`}`, "x", "missing field data.channels")
		f(pre+`,"data":null}`, "x", "missing field data.channels")
		f(pre+`,"data":{}}`, "x", "missing field data.channels")
		f(pre+`,"data":{"Channels":["a"]}}`, "x", "missing field data.channels")
		f(pre+`,"data":{"channels":null}}`, "x", "missing field data.channels")
		f(pre+`,"data":["a"]}`, "x", "field data must be an object")
		f(pre+`,"data":"a"}`, "x", "field data must be an object")
		f(pre+`,"data":{"channels":"a"}}`, "x", "field data.channels must be an array of strings")
		f(pre+`,"data":{"channels":{"a":1}}}`, "x", "field data.channels must be an array of strings")
		f(pre+`,"data":{"channels":[]}}`, "x", "field data.channels must not be empty")
		f(pre+`,"data":{"channels":[ ]}}`, "x", "field data.channels must not be empty")
		f(pre+`,"data":{"channels":[1]}}`, "x", "field data.channels[0] must be a string")
		f(pre+`,"data":{"channels":["a",null]}}`, "x", "field data.channels[1] must be a string")
		f(pre+`,"data":{"channels":["a","b",["c"]]}}`, "x", "field data.channels[2] must be a string")
	}

	// data.since.
	pre := `{"type":"subscribe","id":"s","data":{"channels":["a"],"since":`
	f(pre+`[]}}`, "s", "field data.since must be an object")
	f(pre+`"a"}}`, "s", "field data.since must be an object")
	f(pre+`{"a":1}}}`, "s", `field data.since["a"] must be an object`)
	f(pre+`{"a":null}}}`, "s", `field data.since["a"] must be an object`)
	f(pre+`{"a":{"epoch":"e","seq":1},"a":2}}}`, "s", `field data.since["a"] must be an object`)
	f(pre+`{"b":{"epoch":"e","seq":1},"a":2,"c":3}}}`, "s", `field data.since["a"] must be an object`)
	f(pre+`{"a":{"seq":1}}}}`, "s", `field data.since["a"].epoch must be a string`)
	f(pre+`{"a":{"epoch":7,"seq":1}}}}`, "s", `field data.since["a"].epoch must be a string`)
	f(pre+`{"a":{"Epoch":"e","seq":1}}}}`, "s", `field data.since["a"].epoch must be a string`)
	f(pre+`{"a":{"epoch":"e"}}}}`, "s", `field data.since["a"].seq must be a non-negative integer`)
	f(pre+`{"a":{"epoch":"e","seq":-1}}}}`, "s", `field data.since["a"].seq must be a non-negative integer`)
	f(pre+`{"a":{"epoch":"e","seq":1.5}}}}`, "s", `field data.since["a"].seq must be a non-negative integer`)
	f(pre+`{"a":{"epoch":"e","seq":1e3}}}}`, "s", `field data.since["a"].seq must be a non-negative integer`)
	f(pre+`{"a":{"epoch":"e","seq":"1"}}}}`, "s", `field data.since["a"].seq must be a non-negative integer`)
	f(pre+`{"a":{"epoch":"e","seq":18446744073709551616}}}}`, "s", `field data.since["a"].seq must be a non-negative integer`)
	f(pre+`{"a\nb":{"epoch":"e","seq":true}}}}`, "s", `field data.since["a\nb"].seq must be a non-negative integer`)
}

// TestDecodeReuse checks that Decode resets every field of a reused Command
// and that the strings it stores do not alias the frame.
func TestDecodeReuse(t *testing.T) {
	var cmd Command
	frame := []byte(`{"type":"subscribe","id":"abc","data":{"channels":["one","two","three"],"since":{"one":{"epoch":"ep","seq":3}}}}`)
	if err := Decode(frame, &cmd); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	for i := range frame { // as nbio does when it recycles a read buffer
		frame[i] = 'X'
	}
	if cmd.ID != "abc" || !slices.Equal(cmd.Channels, []string{"one", "two", "three"}) || cmd.Since["one"] != (Since{Epoch: "ep", Seq: 3}) {
		t.Fatalf("decoded command changed with its input buffer: %+v", cmd)
	}

	if err := Decode([]byte(`{"type":"unsubscribe","data":{"channels":["four"]}}`), &cmd); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if cmd.Type != CmdUnsubscribe || cmd.ID != "" || !slices.Equal(cmd.Channels, []string{"four"}) || cmd.Since != nil {
		t.Fatalf("second Decode = %+v; want every field reset", cmd)
	}
	if err := Decode([]byte(`{"type":"heartbeat"}`), &cmd); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if cmd.Type != CmdHeartbeat || len(cmd.Channels) != 0 {
		t.Fatalf("third Decode = %+v; want a bare heartbeat", cmd)
	}
	if stale := cmd.Channels[:cap(cmd.Channels)]; slices.ContainsFunc(stale, func(s string) bool { return s != "" }) {
		t.Fatalf("Decode kept stale channel strings alive in the backing array: %q", stale)
	}
}

// TestDecodeHostile checks that deep nesting and long arrays are handled in
// time linear in the frame size, without a stack overflow.
func TestDecodeHostile(t *testing.T) {
	f := func(frame string, wantErr bool) {
		t.Helper()
		var cmd Command
		err := Decode([]byte(frame), &cmd)
		if (err != nil) != wantErr {
			t.Fatalf("Decode(%.40s...) error = %v; want error %v", frame, err, wantErr)
		}
	}
	const n = 1 << 18
	deep := strings.Repeat("[", n) + strings.Repeat("]", n)
	f(`{"type":"heartbeat","x":`+deep+`}`, true) // deeper than encoding/json's limit: not JSON
	f(`{"type":"heartbeat","x":`+strings.Repeat("[", 9000)+strings.Repeat("]", 9000)+`}`, false)
	f(`{"type":"heartbeat","x":`+strings.Repeat(`{"a":`, 9000)+"1"+strings.Repeat("}", 9000)+`}`, false)
	f(`{"type":"subscribe","data":{"channels":[`+strings.Repeat(`1,`, n)+`"a"]}}`, true)
	f(`{"type":"subscribe","data":{"channels":[`+strings.Repeat(`"a",`, n)+`"a"]}}`, false)
	f(`{"type":"subscribe","data":{"channels":["a"],"since":{`+strings.Repeat(`"a":{"epoch":"e","seq":1},`, n)+`"b":{"epoch":"e","seq":1}}}}`, false)
	f(`{"type":"heartbeat","x":"`+strings.Repeat(`\\\"`, n)+`"}`, false)
}

func TestCommandTypeString(t *testing.T) {
	f := func(ct CommandType, want string) {
		t.Helper()
		if got := ct.String(); got != want {
			t.Fatalf("CommandType(%d).String() = %q; want %q", ct, got, want)
		}
	}
	f(CmdUnknown, "unknown")
	f(CmdSubscribe, "subscribe")
	f(CmdUnsubscribe, "unsubscribe")
	f(CmdHeartbeat, "heartbeat")
	f(CommandType(200), "unknown")
}
