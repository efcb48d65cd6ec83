package main

import "testing"

func TestParseFrame(t *testing.T) {
	f := func(in string, want frameInfo) {
		t.Helper()
		got := parseFrame([]byte(in))
		if want.value == 0 {
			want.value = -1 // no data.n, unless the case says
		}
		if got.kind != want.kind || string(got.channel) != string(want.channel) || got.seq != want.seq ||
			got.hasSeq != want.hasSeq || got.sent != want.sent || got.rejected != want.rejected ||
			got.conflated != want.conflated || got.value != want.value {
			t.Fatalf("parseFrame(%s) = %+v (channel %q); want %+v (channel %q)", in, got, got.channel, want, want.channel)
		}
	}
	f(`{"type":"message","channel":"token.BTC.trade","seq":1043,"ts":1764236400123,"data":{"t":1764236400123456789}}`,
		frameInfo{kind: frameMessage, channel: []byte("token.BTC.trade"), seq: 1043, hasSeq: true, sent: 1764236400123456789})
	// Almost the fast path: the slow path still reads them.
	f(`{"type":"message","channel":"a.b","seq":7,"ts":1,"data":{"x":1,"t":5}}`,
		frameInfo{kind: frameMessage, channel: []byte("a.b"), seq: 7, hasSeq: true, sent: 5})
	f(`{"type":"message","channel":"a.b","seq":x,"ts":1,"data":{"t":5}}`,
		frameInfo{kind: frameMessage, channel: []byte("a.b"), sent: 5})
	f(`{"type":"message","channel":"a.b","seq":7,"ts":1,"data":{"t":"5"}}`,
		frameInfo{kind: frameMessage, channel: []byte("a.b"), seq: 7, hasSeq: true})
	// Without a send time (another publisher): no latency sample.
	f(`{"type":"message","channel":"token.BTC.trade","seq":1,"ts":1,"data":{"price":"43250.5"}}`,
		frameInfo{kind: frameMessage, channel: []byte("token.BTC.trade"), seq: 1, hasSeq: true})
	// The publisher's data cannot fake the envelope's keys.
	f(`{"type":"message","channel":"a.b","seq":7,"ts":1,"data":{"channel":"x","seq":99,"t":5}}`,
		frameInfo{kind: frameMessage, channel: []byte("a.b"), seq: 7, hasSeq: true, sent: 5})
	// Keys in another order.
	f(`{"seq":3,"type":"message","channel":"c","data":{"t":9},"ts":1}`,
		frameInfo{kind: frameMessage, channel: []byte("c"), seq: 3, hasSeq: true, sent: 9})
	// Conflation (PROTOCOL.md): "conflated" after seq, after ts or after
	// data; the publisher's value number in data.n.
	msg := func(seq, conflated uint64, sent, value int64) frameInfo {
		return frameInfo{kind: frameMessage, channel: []byte("token.T0.ticker"), seq: seq, hasSeq: true, conflated: conflated, sent: sent, value: value}
	}
	f(`{"type":"message","channel":"token.T0.ticker","seq":12,"conflated":3,"ts":1,"data":{"t":99,"n":12}}`, msg(12, 3, 99, 12))
	f(`{"type":"message","channel":"token.T0.ticker","seq":12,"ts":1,"conflated":3,"data":{"t":99,"n":12}}`, msg(12, 3, 99, 12))
	f(`{"type":"message","channel":"token.T0.ticker","seq":12,"ts":1,"data":{"t":99,"n":12},"conflated":3}`, msg(12, 3, 99, 12))
	f(`{"type":"message","channel":"token.T0.ticker","seq":12,"ts":1,"data":{"t":99},"conflated":0}`, msg(12, 0, 99, -1))
	f(`{"type":"message","channel":"token.T0.ticker","seq":12,"ts":1,"data":{"t":99,"n":7}}`, msg(12, 0, 99, 7))
	// The slow path: other orders and other data; data cannot fake
	// "conflated" or "seq", wherever the envelope puts them.
	f(`{"type":"message","data":{"n":4,"t":99,"conflated":50},"conflated":2,"seq":12,"channel":"token.T0.ticker","ts":1}`, msg(12, 2, 99, 4))
	f(`{"type":"message","channel":"token.T0.ticker","seq":12,"ts":1,"data":{"t":99,"s":"}\"{","n":4},"conflated":5}`, msg(12, 5, 99, 4))
	f(`{"type":"message","channel":"token.T0.ticker","ts":1,"data":[{"seq":1}],"seq":12,"conflated":1}`, msg(12, 1, 0, -1))
	f(`{"type":"message","channel":"token.T0.ticker","seq":12,"conflated":x,"ts":1,"data":{"t":99}}`, msg(12, 0, 99, -1))
	f(`{"type":"subscription_ack","id":"s","subscribed":["token.BTC.trade"],"count":1}`,
		frameInfo{kind: frameAck})
	f(`{"type":"subscription_ack","id":"1","subscribed":[],"rejected":[{"channel":"user.43.>","code":"FORBIDDEN","message":"..."},{"channel":"a..b","code":"INVALID_CHANNEL","message":"..."}],"count":0}`,
		frameInfo{kind: frameAck, rejected: 2})
	f(`{"type":"error","id":"1","code":"BAD_REQUEST","message":"..."}`, frameInfo{kind: frameError})
	f(`{"type":"pong","ts":1764236400000}`, frameInfo{kind: frameOther})
	f(`not json`, frameInfo{kind: frameOther})
	f(``, frameInfo{kind: frameOther})
}

func TestSkipValue(t *testing.T) {
	// The length of the JSON value at the start; 0 when it is cut short.
	for in, want := range map[string]int{
		`{"t":1},"x":2}`:     7,
		`[1,[2,{"a":"]"}]]}`: 17,
		`"a\"b",`:            6,
		`5,"ts":1}`:          1,
		`5}`:                 1,
		`null}`:              4,
		`{"t":1`:             0,
		``:                   0,
	} {
		eq(t, skipValue([]byte(in)), want, "skipValue(%q)", in)
	}
}

func TestParseUint(t *testing.T) {
	for in, want := range map[string]uint64{"123,": 123, "0}": 0, "18446744073709551615": 18446744073709551615} {
		n, ok := parseUint([]byte(in))
		eq(t, ok, true, "parseUint(%q) ok", in)
		eq(t, n, want, "parseUint(%q)", in)
	}
	for _, bad := range []string{"-1", ""} {
		if n, ok := parseUint([]byte(bad)); ok || n != 0 {
			t.Errorf("parseUint(%q) = %d, %v; want 0, false", bad, n, ok)
		}
	}
}

func BenchmarkParseFrame(b *testing.B) {
	f := func(name, in string) {
		frame := []byte(in)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if parseFrame(frame).kind != frameMessage {
					b.Fatal("not a message")
				}
			}
		})
	}
	f("plain", `{"type":"message","channel":"token.T12.trade","seq":1043,"ts":1764236400123,"data":{"t":1764236400123456789}}`)
	f("conflated", `{"type":"message","channel":"token.T0.trade","seq":1043,"conflated":9,"ts":1764236400123,"data":{"t":1764236400123456789,"n":1043}}`)
}
