package main

import "testing"

func TestParseFrame(t *testing.T) {
	f := func(in string, want frameInfo) {
		t.Helper()
		got := parseFrame([]byte(in))
		if got.kind != want.kind || string(got.channel) != string(want.channel) || got.seq != want.seq ||
			got.hasSeq != want.hasSeq || got.sent != want.sent || got.rejected != want.rejected {
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
	f(`{"type":"subscription_ack","id":"s","subscribed":["token.BTC.trade"],"count":1}`,
		frameInfo{kind: frameAck})
	f(`{"type":"subscription_ack","id":"1","subscribed":[],"rejected":[{"channel":"user.43.>","code":"FORBIDDEN","message":"..."},{"channel":"a..b","code":"INVALID_CHANNEL","message":"..."}],"count":0}`,
		frameInfo{kind: frameAck, rejected: 2})
	f(`{"type":"error","id":"1","code":"BAD_REQUEST","message":"..."}`, frameInfo{kind: frameError})
	f(`{"type":"pong","ts":1764236400000}`, frameInfo{kind: frameOther})
	f(`not json`, frameInfo{kind: frameOther})
	f(``, frameInfo{kind: frameOther})
}

func TestParseUint(t *testing.T) {
	f := func(in string, want uint64, ok bool) {
		t.Helper()
		got, gotOK := parseUint([]byte(in))
		if got != want || gotOK != ok {
			t.Fatalf("parseUint(%q) = %d, %v; want %d, %v", in, got, gotOK, want, ok)
		}
	}
	f("123,", 123, true)
	f("0}", 0, true)
	f("18446744073709551615", 18446744073709551615, true)
	f("-1", 0, false)
	f("", 0, false)
}

func BenchmarkParseFrame(b *testing.B) {
	in := []byte(`{"type":"message","channel":"token.T12.trade","seq":1043,"ts":1764236400123,"data":{"t":1764236400123456789}}`)
	b.ReportAllocs()
	for b.Loop() {
		if parseFrame(in).kind != frameMessage {
			b.Fatal("not a message")
		}
	}
}
