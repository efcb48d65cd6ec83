package auth

import (
	"fmt"
	"strings"
	"testing"

	"wsfan/lib/configtest"
)

var (
	alice = Identity{Subject: "42"}
	bob   = Identity{Subject: "43"}
	anon  = Identity{Anonymous: true}
)

func mustCompile(t testing.TB, rs []Rule) *Rules {
	t.Helper()
	r, err := CompileRules(rs)
	if err != nil {
		t.Fatalf("CompileRules: %v", err)
	}
	return r
}

// allowCase returns a checker of r.Allow.
func allowCase(t *testing.T, r *Rules) func(id Identity, sub string, want bool) {
	return func(id Identity, sub string, want bool) {
		t.Helper()
		got, msg := r.Allow(id, sub)
		if got != want {
			t.Fatalf("Allow(%+v, %q) = %v (%q); want %v", id, sub, got, msg, want)
		}
		if got != (msg == "") {
			t.Fatalf("Allow(%+v, %q) = %v with message %q", id, sub, got, msg)
		}
	}
}

func TestAllowDefaultRules(t *testing.T) {
	f := allowCase(t, mustCompile(t, DefaultRules()))
	// Owner-only channels.
	f(alice, "user.42.favorites", true)
	f(alice, "user.42.balances.usd", true)
	f(bob, "user.42.favorites", false)
	f(anon, "user.42.favorites", false)
	f(Identity{}, "user.42.favorites", false) // no subject
	f(alice, "user.42", false)                // '>' needs one more token
	// The default user rule allows no wildcards at all.
	f(alice, "user.42.>", false)
	f(alice, "user.*.favorites", false)
	f(alice, "user.>", false)
	// Public channels.
	f(anon, "token.BTC.trade", true)
	f(anon, "token.*.trade", true)
	f(anon, "token.BTC.*", true)
	f(anon, "token.*.*", true)
	f(anon, "token.>", false) // reaches token.a.b.c, outside token.*.*
	f(anon, "token.BTC.>", false)
	f(anon, "token.BTC.trade.x", false)
	f(anon, "global", true)
	f(alice, "global", true)
	// Unmatched and wildcards across rules.
	f(alice, "other", false)
	f(alice, "global.x", false)
	f(anon, ">", false)
	f(anon, "*", false)
	f(anon, "*.BTC.trade", false) // overlaps token.*.*, which does not cover it
	// Invalid input.
	f(alice, "", false)
	f(alice, "user..42", false)
	f(alice, "user.{user}.x", false)
	f(alice, "user.42.fav orites", false)
}

func TestAllowWildcardContainment(t *testing.T) {
	f := allowCase(t, mustCompile(t, []Rule{
		{Pattern: "token.*.*", Subscribe: SubscribeAnyone, Wildcards: true},
		{Pattern: "user.{user}.>", Subscribe: SubscribeOwner, Wildcards: true},
		{Pattern: "news.>", Subscribe: SubscribeAuthenticated, Wildcards: true},
		{Pattern: "dm.{user}.{user}", Subscribe: SubscribeOwner, Wildcards: true},
	}))
	f(anon, "token.*.trade", true)
	f(anon, "token.BTC.*", true)
	f(anon, "token.>", false)
	f(anon, "token.*.>", false)
	f(anon, "token.*", false)

	f(alice, "user.42.>", true)
	f(alice, "user.42.*", true)
	f(alice, "user.42.*.x", true)
	f(alice, "user.*.favorites", false) // a wildcard where {user} is
	f(alice, "user.>", false)
	f(alice, "user.*.>", false)
	f(bob, "user.42.>", false)
	f(anon, "user.42.>", false)

	f(alice, "news.>", true)
	f(alice, "news.*", true)
	f(alice, "news.a.*.>", true)
	f(anon, "news.>", false)

	f(alice, "dm.42.42", true)
	f(alice, "dm.42.43", false)
	f(alice, "dm.42.*", false)
}

func TestAllowFirstMatchWins(t *testing.T) {
	f := allowCase(t, mustCompile(t, []Rule{
		{Pattern: "token.secret.*", Subscribe: SubscribeAuthenticated, Wildcards: true},
		{Pattern: "token.*.*", Subscribe: SubscribeAnyone, Wildcards: true},
		{Pattern: "user.{user}.>", Subscribe: SubscribeOwner},
		{Pattern: "user.>", Subscribe: SubscribeAnyone, Wildcards: true},
	}))
	f(anon, "token.secret.trade", false)
	f(alice, "token.secret.trade", true)
	f(anon, "token.BTC.trade", true)
	// token.*.trade reaches token.secret.trade: the first overlapping rule
	// decides, and it does not cover the pattern.
	f(anon, "token.*.trade", false)
	f(alice, "token.*.trade", false)
	f(alice, "token.secret.*", true)
	// user.43.x falls under the owner rule and does not fall through to
	// user.> anyone.
	f(alice, "user.43.x", false)
	f(anon, "user.43.x", false)
	f(alice, "user.42.x", true)
	// user.> anyone still governs what the owner rule cannot match.
	f(anon, "user.43", true)
	f(anon, "user.*", true)
	f(anon, "user.>", false) // overlaps the owner rule first
}

func TestAllowMessages(t *testing.T) {
	r := mustCompile(t, DefaultRules())
	f := func(id Identity, sub, want string) {
		t.Helper()
		if _, msg := r.Allow(id, sub); msg != want {
			t.Fatalf("Allow(%+v, %q) message %q; want %q", id, sub, msg, want)
		}
	}
	f(anon, "user.42.x", msgAuthRequired)
	f(bob, "user.42.x", msgNotOwner)
	f(alice, "user.42.>", msgNoWildcards)
	f(alice, "token.>", msgTooWide)
	f(alice, "nope", msgNoRule)
	f(alice, "a..b", msgInvalidChannel)
}

func TestCompileRules(t *testing.T) {
	f := func(rs []Rule, wantKey string) {
		t.Helper()
		_, err := CompileRules(rs)
		configtest.WantError(t, fmt.Sprintf("CompileRules(%+v)", rs), err, wantKey)
	}
	any := SubscribeAnyone
	f(nil, "")
	f([]Rule{{Pattern: "a.*.>", Subscribe: any}}, "")
	f([]Rule{{Pattern: "", Subscribe: any}}, "auth.rules[0].pattern")
	f([]Rule{{Pattern: "a", Subscribe: any}, {Pattern: "a..b", Subscribe: any}}, "auth.rules[1].pattern")
	f([]Rule{{Pattern: "a.>.b", Subscribe: any}}, "auth.rules[0].pattern")
	f([]Rule{{Pattern: "a.b c", Subscribe: any}}, "auth.rules[0].pattern")
	f([]Rule{{Pattern: "a.{usr}", Subscribe: any}}, "auth.rules[0].pattern")
	f([]Rule{{Pattern: strings.Repeat("a.", 16) + "a", Subscribe: any}}, "auth.rules[0].pattern")
	f([]Rule{{Pattern: "a", Subscribe: any}, {Pattern: "b", Subscribe: ""}}, "auth.rules[1].subscribe")
	f([]Rule{{Pattern: "a", Subscribe: any}, {Pattern: "b"}, {Pattern: "c", Subscribe: "all"}}, "auth.rules[2].subscribe")
	f([]Rule{{Pattern: "user.*", Subscribe: SubscribeOwner}}, "auth.rules[0].subscribe")
	f([]Rule{{Pattern: "user.{user}", Subscribe: SubscribeAuthenticated}}, "auth.rules[0].pattern")
	// Dead rules.
	f([]Rule{{Pattern: "a.>", Subscribe: any}, {Pattern: "a.b.c", Subscribe: any}}, "auth.rules[1].pattern")
	f([]Rule{{Pattern: "a.*", Subscribe: any}, {Pattern: "a.{user}", Subscribe: SubscribeOwner}}, "rules[0]")
	f([]Rule{{Pattern: "a.{user}", Subscribe: SubscribeOwner}, {Pattern: "a.*", Subscribe: any}}, "auth.rules[1].pattern")
	f([]Rule{{Pattern: "a.b", Subscribe: any}, {Pattern: "a.*", Subscribe: any}}, "")
	f([]Rule{{Pattern: "a.*", Subscribe: any}, {Pattern: "a.>", Subscribe: any}}, "")
}

func TestAllowDoesNotAllocate(t *testing.T) {
	r := mustCompile(t, DefaultRules())
	for _, sub := range []string{"token.BTC.trade", "user.42.favorites", "token.*.trade", "nope.x"} {
		n := testing.AllocsPerRun(100, func() { r.Allow(alice, sub) })
		if n != 0 {
			t.Fatalf("Allow(%q) allocates %v times", sub, n)
		}
	}
}
