package index

import "testing"

func TestMatches(t *testing.T) {
	f := func(pattern, channel string, want bool) {
		t.Helper()
		if got := Matches(pattern, channel); got != want {
			t.Fatalf("Matches(%q, %q) = %v; want %v", pattern, channel, got, want)
		}
		if ref := refMatch(pattern, channel); ref != want {
			t.Fatalf("test bug: refMatch(%q, %q) = %v", pattern, channel, ref)
		}
	}
	f("token.BTC.trade", "token.BTC.trade", true)
	f("token.BTC.trade", "token.ETH.trade", false)
	f("token.*.trade", "token.BTC.trade", true)
	f("token.*.trade", "token.BTC.liquidity", false)
	f("token.*.trade", "token.trade", false)
	f("token.*", "token.BTC.trade", false)
	f("token.BTC.>", "token.BTC.trade", true)
	f("token.BTC.>", "token.BTC.trade.x", true)
	f("token.BTC.>", "token.BTC", false)
	f(">", "global", true)
	f(">", "a.b.c", true)
	f("*", "global", true)
	f("*", "a.b", false)
	f("*.>", "a", false)
	f("*.>", "a.b", true)
	f("*.*.*", "a.b.c", true)
	f("*.*.*", "a.b", false)
	f("a.b", "a.b.c", false)
	f("a.b.c", "a.b", false)
}

// FuzzMatches checks Matches against the reference matcher.
func FuzzMatches(f *testing.F) {
	f.Add("token.*.trade", "token.BTC.trade")
	f.Add("token.>", "token")
	f.Add("*.*", "a.b.c")
	f.Fuzz(func(t *testing.T, pattern, channel string) {
		if !ValidPattern(pattern) || !ValidChannel(channel) {
			return
		}
		if got, want := Matches(pattern, channel), refMatch(pattern, channel); got != want {
			t.Fatalf("Matches(%q, %q) = %v; the reference says %v", pattern, channel, got, want)
		}
	})
}
