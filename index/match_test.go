package index

import "testing"

// matchCases are subscriptions, concrete channels and whether the
// subscription matches the channel: the answers of Matches and of the
// reference matcher, refMatch.
var matchCases = []struct {
	sub, channel string
	want         bool
}{
	{"token.BTC.trade", "token.BTC.trade", true},
	{"token.BTC.trade", "token.ETH.trade", false},
	{"token.*.trade", "token.BTC.trade", true},
	{"token.*.trade", "token.BTC.liquidity", false},
	{"token.*.trade", "token.trade", false},
	{"token.*", "token.BTC.trade", false},
	{"token.BTC.>", "token.BTC.trade", true},
	{"token.BTC.>", "token.BTC.trade.x", true},
	{"token.BTC.>", "token.BTC", false},
	{">", "global", true},
	{">", "a.b.c", true},
	{"*", "global", true},
	{"*", "a.b", false},
	{"*.>", "a", false},
	{"*.>", "a.b", true},
	{"*.*.*", "a.b.c", true},
	{"*.*.*", "a.b", false},
	{"a.b", "a.b.c", false},
	{"a.b.c", "a.b", false},
}

func TestMatches(t *testing.T) {
	for _, c := range matchCases {
		if got := Matches(c.sub, c.channel); got != c.want {
			t.Errorf("Matches(%q, %q) = %v; want %v", c.sub, c.channel, got, c.want)
		}
	}
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
