package codec

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"wsfan/ws"
	"wsfan/ws/wstest"
)

// unmarshal decodes b, which must be one valid JSON object.
func unmarshal(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatalf("output is not a JSON object: %v\n%s", err, b)
	}
	if d.More() {
		t.Fatalf("output has trailing bytes:\n%s", b)
	}
	return m
}

// checkJSON checks that b holds exactly the fields of want (encoded by
// encoding/json for comparison) and nothing else.
func checkJSON(t *testing.T, b []byte, want string) {
	t.Helper()
	got := unmarshal(t, b)
	exp := unmarshal(t, []byte(want))
	if !reflect.DeepEqual(got, exp) {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}

func TestAppendMessage(t *testing.T) {
	f := func(channel string, seq uint64, ts int64, data string) {
		t.Helper()
		prefix := []byte("prefix")
		b := AppendMessage(prefix, channel, seq, ts, []byte(data))
		if !bytes.HasPrefix(b, prefix) {
			t.Fatalf("AppendMessage did not keep dst")
		}
		b = b[len(prefix):]
		var env struct {
			Type    string          `json:"type"`
			Channel string          `json:"channel"`
			Seq     uint64          `json:"seq"`
			TS      int64           `json:"ts"`
			Data    json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(b, &env); err != nil {
			t.Fatalf("AppendMessage output is not JSON: %v\n%s", err, b)
		}
		wantData := data
		if data == "" {
			wantData = "null"
		}
		if env.Type != "message" || env.Channel != string([]rune(channel)) || env.Seq != seq || env.TS != ts {
			t.Fatalf("AppendMessage = %s; want channel %q seq %d ts %d", b, channel, seq, ts)
		}
		// data must be byte-exact: check the raw bytes, not a re-encoding.
		if !bytes.HasSuffix(b, []byte(`,"data":`+wantData+`}`)) || string(env.Data) != wantData {
			t.Fatalf("AppendMessage data = %s; want %s byte for byte", env.Data, wantData)
		}
		if n := messageLen(channel, seq, 0, ts, []byte(data)); n != len(b) {
			t.Fatalf("messageLen = %d; AppendMessage wrote %d bytes", n, len(b))
		}
	}
	f("token.BTC.trade", 1043, 1764236400123, `{"price":"43250.5"}`)
	f("global", 0, 0, `"a \"quoted\" \\ string\n\u00e9 é \ud83d\ude00"`)
	f("global", 1, -1, `-12.5e-3`)
	f("global", math.MaxUint64, math.MaxInt64, `null`)
	f("global", 9, math.MinInt64, `true`)
	f("x", 10, 99, `[1, {"a" : [ {"b":null} ]}, "x"]`)
	f("x", 10, 99, `{ "spaced" :  1 ,"nested":{"deep":{"deeper":[[],{}]}} }`)
	f("x", 10, 99, ``)
	f("weird\"chan\\nel\n\x01\u2028\xff", 5, 5, `{}`)
}

func TestAppendSubscriptionAck(t *testing.T) {
	f := func(id string, subscribed []string, rejected []Rejection, count int, positions []Position, recovered *bool, want string) {
		t.Helper()
		b := AppendSubscriptionAck(nil, id, subscribed, rejected, count, positions, recovered)
		checkJSON(t, b, want)
	}
	yes, no := true, false
	f("1", []string{"token.BTC.trade"}, []Rejection{{"user.43.>", CodeForbidden, "not yours"}}, 1, nil, nil,
		`{"type":"subscription_ack","id":"1","subscribed":["token.BTC.trade"],"rejected":[{"channel":"user.43.>","code":"FORBIDDEN","message":"not yours"}],"count":1}`)
	f("", nil, nil, 0, nil, nil, `{"type":"subscription_ack","subscribed":[],"count":0}`)
	f("", []string{}, []Rejection{}, 3, nil, nil, `{"type":"subscription_ack","subscribed":[],"count":3}`)
	f("1", []string{"token.BTC.trade"}, nil, 1, []Position{{"token.BTC.trade", "h7Qx", 1043}}, &yes,
		`{"type":"subscription_ack","id":"1","subscribed":["token.BTC.trade"],"count":1,"positions":[{"channel":"token.BTC.trade","epoch":"h7Qx","seq":1043}],"recovered":true}`)
	f("x", []string{"a", "b"}, []Rejection{{"c", CodeInvalidChannel, "bad"}, {"d", CodeTooManySubscriptions, `"q"`}}, 2,
		[]Position{}, &no,
		`{"type":"subscription_ack","id":"x","subscribed":["a","b"],"rejected":[{"channel":"c","code":"INVALID_CHANNEL","message":"bad"},{"channel":"d","code":"TOO_MANY_SUBSCRIPTIONS","message":"\"q\""}],"count":2,"positions":[],"recovered":false}`)
	f("", []string{"a"}, nil, 1, []Position{{"a", "", 0}, {"b", "e\n", math.MaxUint64}}, nil,
		`{"type":"subscription_ack","subscribed":["a"],"count":1,"positions":[{"channel":"a","epoch":"","seq":0},{"channel":"b","epoch":"e\n","seq":18446744073709551615}]}`)

	// Optional fields are absent, not null, when omitted.
	b := AppendSubscriptionAck(nil, "", nil, nil, 0, nil, nil)
	for _, k := range []string{"id", "rejected", "positions", "recovered"} {
		if _, ok := unmarshal(t, b)[k]; ok {
			t.Fatalf("AppendSubscriptionAck = %s; want no %q", b, k)
		}
	}
}

func TestAppendUnsubscriptionAck(t *testing.T) {
	f := func(id string, unsubscribed []string, count int, want string) {
		t.Helper()
		checkJSON(t, AppendUnsubscriptionAck(nil, id, unsubscribed, count), want)
	}
	f("2", []string{"token.BTC.trade"}, 0, `{"type":"unsubscription_ack","id":"2","unsubscribed":["token.BTC.trade"],"count":0}`)
	f("", nil, 4, `{"type":"unsubscription_ack","unsubscribed":[],"count":4}`)
	f("é\"", []string{"a", "b.>"}, 1, `{"type":"unsubscription_ack","id":"é\"","unsubscribed":["a","b.>"],"count":1}`)
}

func TestAppendPong(t *testing.T) {
	f := func(id string, ts int64, want string) {
		t.Helper()
		if got := string(AppendPong(nil, id, ts)); got != want {
			t.Fatalf("AppendPong(%q, %d) = %s; want %s", id, ts, got, want)
		}
		checkJSON(t, []byte(want), want)
	}
	f("", 1764236400000, `{"type":"pong","ts":1764236400000}`)
	f("hb-7", 0, `{"type":"pong","id":"hb-7","ts":0}`)
	f("", -5, `{"type":"pong","ts":-5}`)
}

func TestAppendError(t *testing.T) {
	f := func(id, code, message, want string) {
		t.Helper()
		checkJSON(t, AppendError(nil, id, code, message), want)
	}
	f("1", CodeBadRequest, "missing field type", `{"type":"error","id":"1","code":"BAD_REQUEST","message":"missing field type"}`)
	f("", CodeRateLimited, "slow down", `{"type":"error","code":"RATE_LIMITED","message":"slow down"}`)
	f("", CodeBadRequest, `unknown type "x\n"`, `{"type":"error","code":"BAD_REQUEST","message":"unknown type \"x\\n\""}`)
}

func TestAppendJSONString(t *testing.T) {
	f := func(s, want string) {
		t.Helper()
		got := string(AppendJSONString(nil, s))
		if got != want {
			t.Fatalf("AppendJSONString(%q) = %s; want %s", s, got, want)
		}
		if n := jsonStringLen(s); n != len(got) {
			t.Fatalf("jsonStringLen(%q) = %d; want %d", s, n, len(got))
		}
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil {
			t.Fatalf("AppendJSONString(%q) = %s: not JSON: %v", s, got, err)
		}
		if want := string([]rune(s)); back != want { // []rune: U+FFFD for each invalid byte
			t.Fatalf("AppendJSONString(%q) decodes to %q; want %q", s, back, want)
		}
	}
	f("", `""`)
	f("token.BTC.trade", `"token.BTC.trade"`)
	f(`"quoted" \ back`, `"\"quoted\" \\ back"`)
	f("\n\r\t\b\f", `"\n\r\t\b\f"`)
	f("\x00\x01\x1f\x7f", `"\u0000\u0001\u001f`+"\x7f"+`"`)
	f("<a&b>/", `"<a&b>/"`)
	f("é😀日本", `"é😀日本"`)
	f("\u2028\u2029", `"\u2028\u2029"`)
	f("\uFFFD", "\"\uFFFD\"")
	f("a\xffb", `"a\ufffdb"`)
	f("\xff\xfe", `"\ufffd\ufffd"`)
	f("\xe6\x97", `"\ufffd\ufffd"`)           // truncated rune
	f("\xed\xa0\x80", `"\ufffd\ufffd\ufffd"`) // surrogate encoded in UTF-8
}

func TestAppendPublishBodies(t *testing.T) {
	checkJSON(t, AppendPublishAccepted(nil, 3), `{"accepted":3}`)
	checkJSON(t, AppendPublishError(nil, CodeUnauthorized, `bad "key"`), `{"error":{"code":"UNAUTHORIZED","message":"bad \"key\""}}`)
}

// TestEncodersAllocs checks that the per-message encoders allocate nothing
// when dst has capacity.
func TestEncodersAllocs(t *testing.T) {
	f := func(name string, fn func(dst []byte) []byte) {
		t.Helper()
		dst := make([]byte, 0, 64<<10)
		if n := testing.AllocsPerRun(100, func() { dst = fn(dst[:0]) }); n != 0 {
			t.Fatalf("%s: %v allocs per run; want 0", name, n)
		}
	}
	data := bytes.Repeat([]byte(`{"price":"43250.5"},`), 1000)
	data = append(append([]byte{'['}, data[:len(data)-1]...), ']')
	f("AppendMessageFrame", func(dst []byte) []byte {
		return AppendMessageFrame(dst, "token.BTC.trade", 1043, 1764236400123, data)
	})
	f("AppendMessageFrame escaped", func(dst []byte) []byte {
		return AppendMessageFrame(dst, "tok\"en\xff", 1043, 1764236400123, data[:100])
	})
	f("AppendMessage", func(dst []byte) []byte {
		return AppendMessage(dst, "token.BTC.trade", 1043, 1764236400123, data)
	})
	f("AppendPong", func(dst []byte) []byte { return AppendPong(dst, "hb-7", 1764236400000) })
	f("AppendError", func(dst []byte) []byte { return AppendError(dst, "17", CodeBadRequest, "missing field type") })
	f("AppendTextFrame", func(dst []byte) []byte { return ws.AppendTextFrame(dst, data) })
	f("AppendCloseFrame", func(dst []byte) []byte { return ws.AppendCloseFrame(dst, CloseGoingAway, CloseReasonShutdown) })
	f("AppendSubscriptionAck", func(dst []byte) []byte {
		return AppendSubscriptionAck(dst, "1", []string{"a", "b"}, []Rejection{{"c", CodeForbidden, "no"}}, 2, nil, nil)
	})
}

// TestAppendMessageFrame checks the frame around the envelope on both sides
// of each header-size boundary, for channels, seqs and timestamps of every
// encoded length class.
func TestAppendMessageFrame(t *testing.T) {
	f := func(channel string, seq uint64, ts int64, data []byte) {
		t.Helper()
		want := AppendMessage(nil, channel, seq, ts, data)
		b := AppendMessageFrame([]byte("keep"), channel, seq, ts, data)
		fr, rest := wstest.MustSplit(t, b[4:])
		if string(b[:4]) != "keep" || !fr.Fin || fr.Op != ws.OpText || len(rest) != 0 || !bytes.Equal(fr.Payload, want) {
			t.Fatalf("AppendMessageFrame(%q, %d, %d, %d data bytes): frame does not hold AppendMessage's envelope", channel, seq, ts, len(data))
		}
		if !json.Valid(fr.Payload) {
			t.Fatalf("AppendMessageFrame payload is not JSON")
		}
	}
	channels := []string{"", "c", "token.BTC.trade", "c\"\n\x01\xff\u2028é", strings.Repeat("\x01", 128)}
	nums := []struct {
		seq uint64
		ts  int64
	}{{0, 0}, {1043, 1764236400123}, {math.MaxUint64, math.MinInt64}}
	for _, ch := range channels {
		for _, num := range nums {
			for _, total := range []int{125, 126, 65535, 65536} {
				for d := -8; d <= 8; d++ {
					dataLen := total + d - messageLen(ch, num.seq, 0, num.ts, []byte("00"))
					if dataLen < 2 {
						continue
					}
					f(ch, num.seq, num.ts, []byte(`"`+strings.Repeat("x", dataLen-2)+`"`))
				}
			}
		}
	}
	f("c", 1, 2, nil)
	f("c", 1, 2, []byte("1"))
}

// TestAckBound checks MaxAckBytesPerChannel against the largest entries a
// channel can add: a rejection quoting a long name of bytes that each
// escape to 6, and a 128-byte subscribed channel with its position.
func TestAckBound(t *testing.T) {
	const n = 50
	long := strings.Repeat("\x01", 4000)
	msg := strings.Repeat("\"", 150) // 300 bytes once escaped
	rejected := make([]Rejection, n)
	for i := range rejected {
		rejected[i] = Rejection{Channel: long, Code: CodeTooManySubscriptions, Message: msg}
	}
	ch := strings.Repeat("c", 128)
	id := strings.Repeat("\x01", 64)
	if b := AppendSubscriptionAck(nil, id, nil, rejected, math.MaxInt, nil, nil); len(b) > n*MaxAckBytesPerChannel+1024 {
		t.Fatalf("ack of %d rejections: %d bytes; bound %d", n, len(b), n*MaxAckBytesPerChannel+1024)
	}
	subscribed := slices.Repeat([]string{ch}, n)
	positions := slices.Repeat([]Position{{Channel: ch, Epoch: strings.Repeat("e", 32), Seq: math.MaxUint64}}, n)
	ok := true
	if b := AppendSubscriptionAck(nil, id, subscribed, nil, math.MaxInt, positions, &ok); len(b) > n*MaxAckBytesPerChannel+1024 {
		t.Fatalf("ack of %d subscriptions: %d bytes; bound %d", n, len(b), n*MaxAckBytesPerChannel+1024)
	}
}

// TestConflatedFrame: the conflated count sits after seq, only when not 0,
// and the frame's header fits its payload at every size class edge.
func TestConflatedFrame(t *testing.T) {
	f := AppendConflatedFrame(nil, "token.BTC.ticker", 16, 4, 1764633600000, []byte(`{"p":1}`))
	want := `{"type":"message","channel":"token.BTC.ticker","seq":16,"conflated":4,"ts":1764633600000,"data":{"p":1}}`
	if string(f[2:]) != want || int(f[1]) != len(want) {
		t.Fatalf("frame %q", f)
	}
	if f0 := AppendConflatedFrame(nil, "a.b", 1, 0, 1, []byte(`1`)); string(f0) != string(AppendMessageFrame(nil, "a.b", 1, 1, []byte(`1`))) {
		t.Fatalf("conflated 0 differs from a plain message: %q", f0)
	}
	for n := 60; n < 70000; n += 1 + n/50 {
		data := []byte(`"` + strings.Repeat("x", n) + `"`)
		for _, k := range []uint64{1, 99, 1 << 40} {
			fr := AppendConflatedFrame(nil, "c.d", 7, k, 1, data)
			if got := messageLen("c.d", 7, k, 1, data); got+ws.HeaderLen(got) != len(fr) {
				t.Fatalf("n=%d k=%d: frame %d bytes, messageLen %d", n, k, len(fr), got)
			}
		}
	}
}

// TestReconflated: a plain frame with a conflated count added is the frame
// AppendConflatedFrame builds, across header sizes.
func TestReconflated(t *testing.T) {
	for _, n := range []int{1, 60, 100, 125, 200, 65000, 70000} {
		data := []byte(`"` + strings.Repeat("y", n) + `"`)
		plain := AppendMessageFrame(nil, "token.X.ticker", 99, 1764633600000, data)
		got := AppendReconflated(nil, plain, 12)
		want := AppendConflatedFrame(nil, "token.X.ticker", 99, 12, 1764633600000, data)
		if !bytes.Equal(got, want) {
			t.Fatalf("n=%d: %q\nwant %q", n, got[:40], want[:40])
		}
	}
}
