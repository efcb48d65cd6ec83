package auth

import (
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"testing"

	"wsfan/index"
)

// refMatch is the reference matcher: does pattern p (split on '.', "{user}"
// taken as '*') match channel c?
func refMatch(p, c []string) bool {
	switch {
	case len(p) == 0:
		return len(c) == 0
	case p[0] == ">":
		return len(c) >= 1
	case len(c) == 0:
		return false
	case p[0] == "*" || p[0] == userPlaceholder || p[0] == c[0]:
		return refMatch(p[1:], c[1:])
	}
	return false
}

// refAllow is the reference decision for a concrete channel: the first
// rule that matches decides.
func refAllow(rules []Rule, id Identity, ch string) bool {
	c := strings.Split(ch, ".")
	for _, r := range rules {
		p := strings.Split(r.Pattern, ".")
		if !refMatch(p, c) {
			continue
		}
		switch r.Subscribe {
		case SubscribeAnyone:
			return true
		case SubscribeAuthenticated:
			return !id.Anonymous && id.Subject != ""
		case SubscribeOwner:
			if id.Anonymous || id.Subject == "" {
				return false
			}
			for i, t := range p {
				if t == userPlaceholder && c[i] != id.Subject {
					return false
				}
			}
			return true
		}
		return false
	}
	return false
}

var fuzzModes = [...]string{SubscribeAnyone, SubscribeAuthenticated, SubscribeOwner}

// FuzzAllow checks that Allow never panics, agrees with refAllow on
// concrete channels, and, when it allows a wildcard subscription, that
// every channel the subscription reaches (sampled) is one refAllow allows.
func FuzzAllow(f *testing.F) {
	f.Add("token.*.*", uint8(0), true, "user.{user}.>", uint8(2), false, "token.BTC.trade", "42")
	f.Add("token.*.*", uint8(0), true, "user.{user}.>", uint8(2), true, "user.42.>", "42")
	f.Add("token.*.*", uint8(0), true, "user.{user}.>", uint8(2), true, "user.*.favorites", "42")
	f.Add("token.*.*", uint8(0), true, "global", uint8(0), false, "token.>", "")
	f.Add("token.secret.*", uint8(1), true, "token.*.*", uint8(0), true, "token.*.trade", "")
	f.Add("a.{user}.{user}", uint8(2), true, "a.>", uint8(0), true, "a.42.*", "42")
	f.Add("user.{user}.>", uint8(2), false, "user.>", uint8(0), true, "user.43.x", "42")
	f.Add(">", uint8(1), true, "x", uint8(0), false, "*.*.>", "sub")
	f.Add("a.*", uint8(0), false, "b.>", uint8(1), false, "a..b", "")
	f.Fuzz(func(t *testing.T, p1 string, m1 uint8, w1 bool, p2 string, m2 uint8, w2 bool, sub, subject string) {
		id := Identity{Subject: subject, Anonymous: subject == ""}
		rules := []Rule{
			{Pattern: p1, Subscribe: fuzzModes[int(m1)%len(fuzzModes)], Wildcards: w1},
			{Pattern: p2, Subscribe: fuzzModes[int(m2)%len(fuzzModes)], Wildcards: w2},
		}
		r, err := CompileRules(rules)
		if err != nil {
			// Whatever the rules, the defaults must cope with sub.
			mustCompile(t, DefaultRules()).Allow(id, sub)
			return
		}
		checkAllow(t, r, rules, id, sub)
	})
}

// checkAllow checks r.Allow(id, sub), r compiled from rules, against the
// reference: a message exactly when it denies; an invalid name denied; a
// concrete channel decided as refAllow decides; and an allowed wildcard
// subscription reaching only channels that refAllow allows (sampled). A
// wildcard denial is conservative: there is nothing to compare it with.
func checkAllow(t *testing.T, r *Rules, rules []Rule, id Identity, sub string) {
	t.Helper()
	got, msg := r.Allow(id, sub)
	if got != (msg == "") {
		t.Fatalf("Allow(%q) = %v with message %q", sub, got, msg)
	}
	if !index.ValidPattern(sub) {
		if got {
			t.Fatalf("Allow allowed the invalid %q", sub)
		}
		return
	}
	if !index.IsPattern(sub) {
		if want := refAllow(rules, id, sub); got != want {
			t.Fatalf("rules %+v, id %+v: Allow(%q) = %v (%q); reference says %v", rules, id, sub, got, msg, want)
		}
		return
	}
	if !got {
		return
	}
	for _, ch := range instances(sub, rules, id.Subject) {
		if !refAllow(rules, id, ch) {
			t.Fatalf("rules %+v, id %+v: Allow(%q) = true, but it reaches %q, which the reference denies", rules, id, sub, ch)
		}
	}
}

// instances returns up to 64 concrete channels that the pattern sub
// matches, built from tokens the rules and the subject care about.
func instances(sub string, rules []Rule, subject string) []string {
	pool := []string{"x", "y"}
	if index.ValidChannel(subject) && !strings.Contains(subject, ".") {
		pool = append(pool, subject)
	}
	for _, r := range rules {
		for _, tok := range strings.Split(r.Pattern, ".") {
			if index.ValidChannel(tok) {
				pool = append(pool, tok)
			}
		}
	}
	h := fnv.New64a()
	h.Write([]byte(sub))
	rng := rand.New(rand.NewPCG(h.Sum64(), uint64(len(pool))))
	toks := strings.Split(sub, ".")
	var out []string
	for range 64 {
		var b []string
		for _, t := range toks {
			switch t {
			case "*":
				b = append(b, pool[rng.IntN(len(pool))])
			case ">":
				for range 1 + rng.IntN(3) {
					b = append(b, pool[rng.IntN(len(pool))])
				}
			default:
				b = append(b, t)
			}
		}
		out = append(out, strings.Join(b, "."))
	}
	return out
}

// fuzzAlphabet is the token vocabulary of FuzzAllowTokens: few literals, so
// that rules and subscriptions collide often.
var fuzzAlphabet = [...]string{"a", "b", "42", "43", "*", ">", userPlaceholder}

// tokensFrom builds a '.'-joined name from b, one token per byte.
func tokensFrom(b []byte) string {
	toks := make([]string, 0, len(b))
	for _, c := range b {
		toks = append(toks, fuzzAlphabet[int(c)%len(fuzzAlphabet)])
	}
	return strings.Join(toks, ".")
}

// FuzzAllowTokens is FuzzAllow over names built from a small vocabulary,
// which reaches valid, overlapping rules and subscriptions far more often
// than raw strings do.
func FuzzAllowTokens(f *testing.F) {
	f.Add([]byte{0, 4, 4}, uint8(0), true, []byte{0, 6, 5}, uint8(2), true, []byte{0, 2, 5}, true)
	f.Add([]byte{0, 6, 5}, uint8(2), true, []byte{0, 5}, uint8(0), true, []byte{0, 4, 1}, true)
	f.Add([]byte{0, 1, 4}, uint8(1), true, []byte{0, 4, 4}, uint8(0), true, []byte{0, 4, 1}, false)
	f.Fuzz(func(t *testing.T, b1 []byte, m1 uint8, w1 bool, b2 []byte, m2 uint8, w2 bool, bs []byte, authed bool) {
		if len(b1) > 6 || len(b2) > 6 || len(bs) > 6 {
			return
		}
		subject := ""
		if authed {
			subject = "42"
		}
		id := Identity{Subject: subject, Anonymous: !authed}
		// Owner rules need {user}, others must not have it: pick the
		// policy that fits, so that most inputs compile.
		mode := func(p string, m uint8) string {
			if strings.Contains(p, userPlaceholder) {
				return SubscribeOwner
			}
			return fuzzModes[int(m)%2]
		}
		p1, p2 := tokensFrom(b1), tokensFrom(b2)
		rules := []Rule{
			{Pattern: p1, Subscribe: mode(p1, m1), Wildcards: w1},
			{Pattern: p2, Subscribe: mode(p2, m2), Wildcards: w2},
		}
		r, err := CompileRules(rules)
		if err != nil {
			return
		}
		sub := strings.ReplaceAll(tokensFrom(bs), userPlaceholder, "43")
		checkAllow(t, r, rules, id, sub)
	})
}
