package ws

import "testing"

// TestNegotiateDeflate covers RFC 7692 section 7's offers: what a browser,
// Node's ws and gorilla offer is accepted with both no_context_takeover
// parameters; an offer that asks for what the server cannot do (a smaller
// server window), or is malformed, is declined, and the next offer in the
// list is tried; nothing fails the upgrade.
func TestNegotiateDeflate(t *testing.T) {
	const both = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
	for _, tc := range []struct {
		name   string
		offers []string
		want   string
	}{
		{"none", nil, ""},
		{"other extension", []string{"x-webkit-deflate-frame"}, ""},
		{"chromium", []string{"permessage-deflate; client_max_window_bits"}, both},
		{"node ws", []string{"permessage-deflate; client_max_window_bits"}, both},
		{"gorilla", []string{"permessage-deflate; server_no_context_takeover; client_no_context_takeover"}, both},
		{"bare", []string{"permessage-deflate"}, both},
		{"case and spaces", []string{"  Permessage-Deflate ;Client_Max_Window_Bits=10 "}, both},
		{"quoted value", []string{`permessage-deflate; client_max_window_bits="12"`}, both},
		{"server window 15", []string{"permessage-deflate; server_max_window_bits=15"}, both + "; server_max_window_bits=15"},
		{"server window 10", []string{"permessage-deflate; server_max_window_bits=10"}, ""},
		{"fallback offer", []string{"permessage-deflate; server_max_window_bits=9, permessage-deflate"}, both},
		{"fallback in a second header", []string{"permessage-deflate; server_max_window_bits=9", "permessage-deflate; client_max_window_bits"}, both},
		{"unknown parameter", []string{"permessage-deflate; foo=1"}, ""},
		{"duplicate parameter", []string{"permessage-deflate; client_no_context_takeover; client_no_context_takeover"}, ""},
		{"value on a flag", []string{"permessage-deflate; server_no_context_takeover=1"}, ""},
		{"window out of range", []string{"permessage-deflate; client_max_window_bits=16"}, ""},
		{"window leading zero", []string{"permessage-deflate; client_max_window_bits=08"}, ""},
		{"window not a number", []string{"permessage-deflate; server_max_window_bits=x"}, ""},
		{"server window without value", []string{"permessage-deflate; server_max_window_bits"}, ""},
		{"empty parameter", []string{"permessage-deflate;;"}, ""},
		{"unterminated quote", []string{`permessage-deflate; client_max_window_bits="10`}, ""},
		{"garbage", []string{"\x00\xff;=,;"}, ""},
	} {
		if got := NegotiateDeflate(tc.offers); got != tc.want {
			t.Errorf("%s: NegotiateDeflate(%q) = %q; want %q", tc.name, tc.offers, got, tc.want)
		}
	}
}

// FuzzNegotiateDeflate: no offer panics, and an accepted one is answered
// with both no_context_takeover parameters.
func FuzzNegotiateDeflate(f *testing.F) {
	for _, s := range []string{"permessage-deflate; client_max_window_bits", "permessage-deflate; server_max_window_bits=15, x", `a; b="c,d"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, offer string) {
		got := NegotiateDeflate([]string{offer})
		if got != "" && got[:len(deflateResponse)] != deflateResponse {
			t.Fatalf("NegotiateDeflate(%q) = %q", offer, got)
		}
	})
}
