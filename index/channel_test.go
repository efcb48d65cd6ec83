package index

import (
	"strings"
	"testing"
)

// joinTokens returns n tokens tok joined by '.'.
func joinTokens(tok string, n int) string {
	return strings.TrimSuffix(strings.Repeat(tok+".", n), ".")
}

func TestValidChannel(t *testing.T) {
	f := func(s string, want bool) {
		t.Helper()
		if got := ValidChannel(s); got != want {
			t.Fatalf("ValidChannel(%q) = %v; want %v", s, got, want)
		}
	}
	// Good names.
	f("global", true)
	f("token.BTC.trade", true)
	f("token.8f3a.liquidity", true)
	f("user.42.favorites", true)
	f("a-b_c.D-9", true)
	f("_", true)
	f("-", true)
	f("0", true)

	// Empty name and empty tokens.
	f("", false)
	f(".", false)
	f("a..b", false)
	f(".a", false)
	f("a.", false)
	f("..", false)

	// Bad bytes.
	f("a b", false)
	f("a/b", false)
	f("a:b", false)
	f("token.BTC.trade\n", false)
	f("a\x00b", false)
	f("a+b", false)
	f("a$b", false)

	// Wildcards are not channels.
	f("*", false)
	f(">", false)
	f("token.*.trade", false)
	f("token.BTC.>", false)

	// Unicode, valid UTF-8 or not.
	f("токен", false)
	f("token.€.trade", false)
	f("café", false)
	f("a\xffb", false)

	// Length: 128 bytes is the limit.
	f(strings.Repeat("a", 128), true)
	f(strings.Repeat("a", 129), false)
	f("a."+strings.Repeat("b", 126), true)
	f("a."+strings.Repeat("b", 127), false)

	// Tokens: 16 is the limit.
	f(joinTokens("a", 16), true)
	f(joinTokens("a", 17), false)
	f(joinTokens("abcdefg", 16), true) // 127 bytes
}

func TestValidPattern(t *testing.T) {
	f := func(s string, want bool) {
		t.Helper()
		if got := ValidPattern(s); got != want {
			t.Fatalf("ValidPattern(%q) = %v; want %v", s, got, want)
		}
	}
	// Every channel is a pattern.
	f("global", true)
	f("token.BTC.trade", true)
	f("user.42.favorites", true)

	// Wildcards in good places.
	f("*", true)
	f(">", true)
	f("token.*.trade", true)
	f("token.BTC.>", true)
	f("*.*.*", true)
	f("*.>", true)
	f("token.*.>", true)
	f("*.BTC.trade", true)
	f("token.BTC.*", true)

	// Wildcards in bad places.
	f("a.>.b", false)
	f(">.a", false)
	f(">.>", false)
	f("a.*b", false)
	f("a.b*", false)
	f("a.**", false)
	f("a.>>", false)
	f("a.b>", false)
	f("a.>b", false)
	f("a*.b", false)
	f("*a", false)
	f("a.*.", false)
	f(".*", false)
	f("*..a", false)

	// Empty name and empty tokens.
	f("", false)
	f("a..b", false)
	f(".a", false)
	f("a.", false)

	// Bad bytes and unicode.
	f("a b", false)
	f("a.?", false)
	f("token.€.>", false)
	f("a\xff.*", false)

	// The limits of channels apply.
	f(strings.Repeat("a", 126)+".>", true)
	f(strings.Repeat("a", 127)+".>", false)
	f(joinTokens("*", 16), true)
	f(joinTokens("*", 17), false)
	f(joinTokens("a", 15)+".>", true)
	f(joinTokens("a", 16)+".>", false)
}

func TestIsPattern(t *testing.T) {
	f := func(s string, want bool) {
		t.Helper()
		if !ValidPattern(s) {
			t.Fatalf("test bug: %q is not a valid pattern", s)
		}
		if got := IsPattern(s); got != want {
			t.Fatalf("IsPattern(%q) = %v; want %v", s, got, want)
		}
	}
	f("global", false)
	f("token.BTC.trade", false)
	f("a-b_c.D-9", false)
	f("*", true)
	f(">", true)
	f("token.*.trade", true)
	f("token.BTC.>", true)
	f("*.BTC.trade", true)
	f("token.BTC.*", true)
	f("*.>", true)
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
			ValidChannel(s)
			ValidPattern(s)
			IsPattern(s)
		}
	})
	if allocs != 0 {
		t.Fatalf("validation allocates %v times per run; want 0", allocs)
	}
}
