package codec

import (
	"errors"
	"strings"
	"testing"
)

func TestDecodePublish(t *testing.T) {
	f := func(body string, want ...Publication) {
		t.Helper()
		pubs, err := DecodePublish([]byte(body))
		if err != nil {
			t.Fatalf("DecodePublish(%s): unexpected error %v", body, err)
		}
		if len(pubs) != len(want) {
			t.Fatalf("DecodePublish(%s) = %d publications; want %d", body, len(pubs), len(want))
		}
		for i := range want {
			if pubs[i].Channel != want[i].Channel || string(pubs[i].Data) != string(want[i].Data) || pubs[i].ID != want[i].ID {
				t.Fatalf("DecodePublish(%s)[%d] = {%q, %s, id %q}; want {%q, %s, id %q}", body, i,
					pubs[i].Channel, pubs[i].Data, pubs[i].ID, want[i].Channel, want[i].Data, want[i].ID)
			}
		}
	}
	p := func(channel, data string) Publication { return Publication{Channel: channel, Data: []byte(data)} }

	f(`{"channel":"token.BTC.trade","data":{"price":"43250.5"}}`, p("token.BTC.trade", `{"price":"43250.5"}`))
	// data is kept byte for byte, inner whitespace and escapes included; outer whitespace trimmed.
	f(`{"data" :  { "b" : [1, 2.50, -0e+1] ,"a":"\u00e9\n" }  , "channel":"c"}`, p("c", `{ "b" : [1, 2.50, -0e+1] ,"a":"\u00e9\n" }`))
	f(`{"channel":"c","data":null}`, p("c", `null`))
	f(`{"channel":"c","data":"str"}`, p("c", `"str"`))
	f(`{"channel":"c","data":12.5e3}`, p("c", `12.5e3`))
	f(`{"channel":"c","data":false}`, p("c", `false`))
	f(`{"channel":"c","data":[]}`, p("c", `[]`))
	// Unknown fields ignored, keys case-sensitive, last repeated key wins, escapes decoded.
	f(`{"Channel":"no","channel":"c","DATA":1,"data":2,"extra":{"channel":"x"}}`, p("c", `2`))
	f(`{"channel":"a","channel":"b","data":1,"data":[2]}`, p("b", `[2]`))
	f(`{"chann\u0065l":"a\/b","data":1}`, p("a/b", `1`))
	// An idempotency key, per publication; null is no key.
	f(`[{"channel":"c","data":1,"id":"o-\u0031"},{"channel":"c","data":2,"id":null},{"id":"x","channel":"c","data":3}]`,
		Publication{Channel: "c", Data: []byte(`1`), ID: "o-1"}, p("c", `2`), Publication{Channel: "c", Data: []byte(`3`), ID: "x"})
	// Channel names are not validated here.
	f(`{"channel":"","data":1}`, p("", `1`))
	f(`{"channel":"token.*.>","data":1}`, p("token.*.>", `1`))
	// Batches, in order.
	f(` [ {"channel":"a","data":1} , {"channel":"b","data":{"x":[null]}},{"channel":"a","data":"3"} ] `,
		p("a", `1`), p("b", `{"x":[null]}`), p("a", `"3"`))
}

func TestDecodePublishBadRequest(t *testing.T) {
	f := func(body, wantMessage string) {
		t.Helper()
		pubs, err := DecodePublish([]byte(body))
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeBadRequest || e.Message != wantMessage {
			t.Fatalf("DecodePublish(%s) = %v; want %s %q", body, err, CodeBadRequest, wantMessage)
		}
		if pubs != nil {
			t.Fatalf("DecodePublish(%s) returned publications with an error", body)
		}
	}
	f(``, "not JSON")
	f(`{"channel":"c","data":1,"id":7}`, "field id must be a string")
	f(`[{"channel":"c","data":1},{"channel":"c","data":1,"id":{}}]`, "index 1: field id must be a string")
	f(`{"channel":"c","data":1`, "not JSON")
	f(`{"channel":"c","data":1} x`, "not JSON")
	f(`{"channel":"c","data":1}{"channel":"c","data":1}`, "not JSON")
	f(`{"channel":"c","data":undefined}`, "not JSON")
	f("{\"channel\":\"c\",\"data\":\"\xff\"}", "not valid UTF-8")
	f(`"c"`, "not a JSON object or array")
	f(`null`, "not a JSON object or array")
	f(`[]`, "empty batch")
	f(` [ ] `, "empty batch")

	f(`{}`, "missing field channel")
	f(`{"data":1}`, "missing field channel")
	f(`{"Channel":"c","data":1}`, "missing field channel")
	f(`{"channel":null,"data":1}`, "field channel must be a string")
	f(`{"channel":5,"data":1}`, "field channel must be a string")
	f(`{"channel":["c"],"data":1}`, "field channel must be a string")
	f(`{"channel":"c"}`, "missing field data")
	f(`{"channel":"c","Data":1}`, "missing field data")

	f(`[{"channel":"a","data":1},{"data":1}]`, "index 1: missing field channel")
	f(`[{"channel":"a","data":1},{"channel":"b","data":2},{"channel":"c"}]`, "index 2: missing field data")
	f(`[{"channel":1,"data":1}]`, "index 0: field channel must be a string")
	f(`[{"channel":"a","data":1},"b"]`, "index 1: not a JSON object")
	f(`[{"channel":"a","data":1},[]]`, "index 1: not a JSON object")
	f(`[[{"channel":"a","data":1}]]`, "index 0: not a JSON object")
}

// TestDecodePublishOwnership checks that nothing returned aliases the body and
// that publications do not share storage.
func TestDecodePublishOwnership(t *testing.T) {
	body := []byte(`[{"channel":"a","data":{"x":1}},{"channel":"b","data":[2]}]`)
	pubs, err := DecodePublish(body)
	if err != nil {
		t.Fatalf("DecodePublish: %v", err)
	}
	for i := range body {
		body[i] = 'X'
	}
	if pubs[0].Channel != "a" || string(pubs[0].Data) != `{"x":1}` || pubs[1].Channel != "b" || string(pubs[1].Data) != `[2]` {
		t.Fatalf("publications changed with the body: %q", pubs)
	}
	_ = append(pubs[0].Data, "garbage"...)
	if string(pubs[1].Data) != `[2]` {
		t.Fatalf("appending to one Data changed another")
	}
}

func TestDecodePublishLarge(t *testing.T) {
	const n = 10000
	body := "[" + strings.Repeat(`{"channel":"c","data":{"k":[1,2,3]}},`, n-1) + `{"channel":"c","data":0}]`
	pubs, err := DecodePublish([]byte(body))
	if err != nil || len(pubs) != n {
		t.Fatalf("DecodePublish of a %d-entry batch = %d, %v", n, len(pubs), err)
	}
	deep := `{"channel":"c","data":` + strings.Repeat("[", 1<<20) + strings.Repeat("]", 1<<20) + `}`
	if _, err := DecodePublish([]byte(deep)); err == nil {
		t.Fatalf("DecodePublish accepted nesting deeper than encoding/json allows")
	}
}
