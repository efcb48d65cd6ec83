package index

import (
	"strings"
	"testing"
)

// joinTokens returns n tokens tok joined by '.'.
func joinTokens(tok string, n int) string {
	return strings.TrimSuffix(strings.Repeat(tok+".", n), ".")
}

// nameCases are names with what ValidChannel and ValidPattern say of them:
// every channel is a valid pattern, and no name with a wildcard is a
// channel (so that IsPattern of a valid pattern is !channel).
var nameCases = []struct {
	name             string
	channel, pattern bool
}{
	// Good channel names.
	{"global", true, true},
	{"token.BTC.trade", true, true},
	{"token.8f3a.liquidity", true, true},
	{"user.42.favorites", true, true},
	{"a-b_c.D-9", true, true},
	{"_", true, true},
	{"-", true, true},
	{"0", true, true},

	// Wildcards in good places: patterns, not channels.
	{"*", false, true},
	{">", false, true},
	{"token.*.trade", false, true},
	{"token.BTC.>", false, true},
	{"*.*.*", false, true},
	{"*.>", false, true},
	{"token.*.>", false, true},
	{"*.BTC.trade", false, true},
	{"token.BTC.*", false, true},

	// Wildcards in bad places.
	{"a.>.b", false, false},
	{">.a", false, false},
	{">.>", false, false},
	{"a.*b", false, false},
	{"a.b*", false, false},
	{"a.**", false, false},
	{"a.>>", false, false},
	{"a.b>", false, false},
	{"a.>b", false, false},
	{"a*.b", false, false},
	{"*a", false, false},
	{"a.*.", false, false},
	{".*", false, false},
	{"*..a", false, false},

	// Empty name and empty tokens.
	{"", false, false},
	{".", false, false},
	{"a..b", false, false},
	{".a", false, false},
	{"a.", false, false},
	{"..", false, false},

	// Bad bytes.
	{"a b", false, false},
	{"a/b", false, false},
	{"a:b", false, false},
	{"a.?", false, false},
	{"token.BTC.trade\n", false, false},
	{"a\x00b", false, false},
	{"a+b", false, false},
	{"a$b", false, false},

	// Unicode, valid UTF-8 or not.
	{"токен", false, false},
	{"token.€.trade", false, false},
	{"token.€.>", false, false},
	{"café", false, false},
	{"a\xffb", false, false},
	{"a\xff.*", false, false},

	// Length: 128 bytes is the limit.
	{strings.Repeat("a", 128), true, true},
	{strings.Repeat("a", 129), false, false},
	{"a." + strings.Repeat("b", 126), true, true},
	{"a." + strings.Repeat("b", 127), false, false},
	{strings.Repeat("a", 126) + ".>", false, true},
	{strings.Repeat("a", 127) + ".>", false, false},

	// Tokens: 16 is the limit.
	{joinTokens("a", 16), true, true},
	{joinTokens("a", 17), false, false},
	{joinTokens("abcdefg", 16), true, true}, // 127 bytes
	{joinTokens("*", 16), false, true},
	{joinTokens("*", 17), false, false},
	{joinTokens("a", 15) + ".>", false, true},
	{joinTokens("a", 16) + ".>", false, false},
}

func TestValidChannel(t *testing.T) {
	for _, c := range nameCases {
		if got := ValidChannel(c.name); got != c.channel {
			t.Errorf("ValidChannel(%q) = %v; want %v", c.name, got, c.channel)
		}
	}
}

func TestValidPattern(t *testing.T) {
	for _, c := range nameCases {
		if got := ValidPattern(c.name); got != c.pattern {
			t.Errorf("ValidPattern(%q) = %v; want %v", c.name, got, c.pattern)
		}
	}
}

// TestIsPattern: on a valid pattern, IsPattern is true exactly when the
// name is no channel, that is when it has a wildcard token.
func TestIsPattern(t *testing.T) {
	for _, c := range nameCases {
		if c.pattern && IsPattern(c.name) == c.channel {
			t.Errorf("IsPattern(%q) = %v; want %v", c.name, c.channel, !c.channel)
		}
	}
}

// TestWildcardIsIsPattern checks the index's shortcut against IsPattern on
// valid names, which is all the index is given.
func TestWildcardIsIsPattern(t *testing.T) {
	for _, s := range append(fuzzSeeds, "token.*.trade", "a.*.b.>", "x-y_z.9") {
		if ValidPattern(s) && wildcard(s) != IsPattern(s) {
			t.Fatalf("wildcard(%q) = %v; IsPattern says %v", s, wildcard(s), IsPattern(s))
		}
	}
}

func TestValidAllocs(t *testing.T) {
	names := []string{"token.BTC.trade", "token.*.>", "a..b", strings.Repeat("a", 129)}
	allocs := testing.AllocsPerRun(100, func() {
		for _, s := range names {
			_ = ValidChannel(s)
			_ = ValidPattern(s)
			_ = IsPattern(s)
		}
	})
	if allocs != 0 {
		t.Fatalf("validation allocates %v times per run; want 0", allocs)
	}
}
