package cluster

import (
	"strings"
	"testing"

	"wsfan/index"
)

func TestOverlap(t *testing.T) {
	f := func(a, b string, want bool) {
		t.Helper()
		if got := overlap(a, b); got != want {
			t.Fatalf("overlap(%q, %q) = %v; want %v", a, b, got, want)
		}
		if got := overlap(b, a); got != want {
			t.Fatalf("overlap(%q, %q) = %v; want %v (symmetry)", b, a, got, want)
		}
	}
	f("token.BTC.trade", "token.BTC.trade", true)
	f("token.BTC.trade", "token.ETH.trade", false)
	f("token.*.trade", "token.BTC.trade", true)
	f("token.*.trade", "token.BTC.book", false)
	f("token.*.trade", "token.BTC.trade.x", false)
	f("token.BTC.>", "token.BTC.trade", true)
	f("token.BTC.>", "token.BTC.trade.l2", true)
	f("token.BTC.>", "token.BTC", false)
	f("token.*.trade", "token.BTC.>", true)
	f("token.*", "token.BTC.>", false)
	f("*.*", ">", true)
	f(">", "a", true)
	f("*", "a.b", false)
	f("a.*.c", "*.b.*", true)
	f("a.*.c", "*.b.d", false)
}

// TestOverlapReference checks overlap against its definition, some concrete
// channel matched by both, on every pattern of up to three tokens over a
// small alphabet.
func TestOverlapReference(t *testing.T) {
	var pats, chans []string
	var gen func(prefix []string, n int)
	gen = func(prefix []string, n int) {
		if len(prefix) > 0 {
			s := strings.Join(prefix, ".")
			pats = append(pats, s)
			if !index.IsPattern(s) {
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
			if got := overlap(a, b); got != want {
				t.Fatalf("overlap(%q, %q) = %v; want %v", a, b, got, want)
			}
		}
	}
}
