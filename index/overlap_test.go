package index

import (
	"strings"
	"testing"
)

func TestOverlap(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"a.b", "a.b", true}, {"a.b", "a.c", false}, {"a.*", "a.b", true}, {"a.*", "*.b", true},
		{"a.>", "a.b.c", true}, {"a.>", "a", false}, {">", "x.y", true}, {"a.*", "a.b.c", false},
		{"token.*.ticker", "token.>", true}, {"token.*.ticker", "token.*.trade", false},
		{"token.*.ticker", "*.BTC.*", true}, {"token.*", "token.*.ticker", false}, {"*", ">", true},
		{"token.BTC.trade", "token.BTC.trade", true},
		{"token.BTC.trade", "token.ETH.trade", false},
		{"token.*.trade", "token.BTC.trade", true},
		{"token.*.trade", "token.BTC.book", false},
		{"token.*.trade", "token.BTC.trade.x", false},
		{"token.BTC.>", "token.BTC.trade", true},
		{"token.BTC.>", "token.BTC.trade.l2", true},
		{"token.BTC.>", "token.BTC", false},
		{"token.*.trade", "token.BTC.>", true},
		{"token.*", "token.BTC.>", false},
		{"*.*", ">", true},
		{">", "a", true},
		{"*", "a.b", false},
		{"a.*.c", "*.b.*", true},
		{"a.*.c", "*.b.d", false},
	} {
		if got := Overlap(tc.a, tc.b); got != tc.want {
			t.Errorf("Overlap(%q, %q) = %v; want %v", tc.a, tc.b, got, tc.want)
		}
		if got := Overlap(tc.b, tc.a); got != tc.want {
			t.Errorf("Overlap(%q, %q) = %v; want %v (symmetric)", tc.b, tc.a, got, tc.want)
		}
		if !IsPattern(tc.b) && Overlap(tc.a, tc.b) != Matches(tc.a, tc.b) {
			t.Errorf("Overlap(%q, %q) disagrees with Matches", tc.a, tc.b)
		}
	}
}

// TestOverlapReference checks Overlap against its definition, some concrete
// channel matched by both, on every pattern of up to three tokens over a
// small alphabet.
func TestOverlapReference(t *testing.T) {
	var pats, chans []string
	var gen func(prefix []string, n int)
	gen = func(prefix []string, n int) {
		if len(prefix) > 0 {
			s := strings.Join(prefix, ".")
			pats = append(pats, s)
			if !IsPattern(s) {
				chans = append(chans, s)
			}
		}
		if n == 0 {
			return
		}
		for _, tok := range []string{"a", "b", "*", ">"} {
			if len(prefix) > 0 && prefix[len(prefix)-1] == ">" {
				return
			}
			gen(append(prefix[:len(prefix):len(prefix)], tok), n-1)
		}
	}
	gen(nil, 4)                         // channels of up to 4 tokens witness patterns of up to 3
	matches := func(p, c string) bool { // token by token, by definition
		pt, ct := strings.Split(p, "."), strings.Split(c, ".")
		for i, tok := range pt {
			if tok == ">" {
				return len(ct) > i
			}
			if i >= len(ct) || (tok != "*" && tok != ct[i]) {
				return false
			}
		}
		return len(pt) == len(ct)
	}
	for _, a := range pats {
		if strings.Count(a, ".") > 2 {
			continue
		}
		for _, b := range pats {
			if strings.Count(b, ".") > 2 {
				continue
			}
			want := false
			for _, c := range chans {
				if matches(a, c) && matches(b, c) {
					want = true
					break
				}
			}
			if got := Overlap(a, b); got != want {
				t.Fatalf("Overlap(%q, %q) = %v; want %v", a, b, got, want)
			}
		}
	}
}
