package index

import (
	"regexp"
	"strings"
	"testing"
)

// tokenRE is the reference definition of a concrete token.
var tokenRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// refValid is the reference implementation of ValidChannel (wildcards false)
// and ValidPattern (wildcards true), written for clarity, not speed.
func refValid(s string, wildcards bool) bool {
	if len(s) > MaxChannelLen {
		return false
	}
	tokens := strings.Split(s, ".")
	if len(tokens) > MaxTokens {
		return false
	}
	for i, tok := range tokens {
		switch {
		case tokenRE.MatchString(tok):
		case wildcards && tok == "*":
		case wildcards && tok == ">" && i == len(tokens)-1:
		default:
			return false
		}
	}
	return true
}

// refIsPattern is the reference implementation of IsPattern.
func refIsPattern(s string) bool {
	tokens := strings.Split(s, ".")
	for _, tok := range tokens {
		if tok == "*" {
			return true
		}
	}
	return tokens[len(tokens)-1] == ">"
}

// fuzzSeeds is the seed corpus shared by the channel and pattern fuzzers.
var fuzzSeeds = []string{
	"", ".", "..", "global", "token.BTC.trade", "token.8f3a.liquidity",
	"user.42.favorites", "a..b", ".a", "a.", "*", ">", "token.*.trade",
	"token.BTC.>", "a.>.b", "a.*b", "*.>", ">.>", "a.**", "токен", "a\xffb",
	"a b", strings.Repeat("a", 128), strings.Repeat("a", 129),
	joinTokens("a", 16), joinTokens("a", 17), joinTokens("*", 16) + ".>",
}

func FuzzValidChannel(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := ValidChannel(s), refValid(s, false); got != want {
			t.Fatalf("ValidChannel(%q) = %v; reference says %v", s, got, want)
		}
	})
}

func FuzzValidPattern(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, want := ValidPattern(s), refValid(s, true)
		if got != want {
			t.Fatalf("ValidPattern(%q) = %v; reference says %v", s, got, want)
		}
		if got {
			if p, rp := IsPattern(s), refIsPattern(s); p != rp {
				t.Fatalf("IsPattern(%q) = %v; reference says %v", s, p, rp)
			}
			if w := wildcard(s); w != IsPattern(s) {
				t.Fatalf("wildcard(%q) = %v; IsPattern says %v", s, w, IsPattern(s))
			}
			if ValidChannel(s) == IsPattern(s) {
				t.Fatalf("valid pattern %q: ValidChannel = %v, IsPattern = %v; want exactly one", s, ValidChannel(s), IsPattern(s))
			}
		}
	})
}
