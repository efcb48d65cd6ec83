package auth

import (
	"fmt"
	"strings"

	"wsfan/index"
)

// userPlaceholder is the rule token that stands for the identity's subject.
const userPlaceholder = "{user}"

// tokKind is what one token of a rule pattern or subscription stands for.
type tokKind uint8

const (
	tokLit  tokKind = iota // a literal token, equal to lit
	tokStar                // "*": exactly one token
	tokTail                // ">": one or more tokens; only last
	tokUser                // "{user}": one token, the subject (rule patterns only)
)

// ptok is one parsed token. lit is set for tokLit only.
type ptok struct {
	kind tokKind
	lit  string
}

// parseRulePattern parses a rule pattern: tokens joined by '.', each a
// literal [A-Za-z0-9_-]+, "*", "{user}", or ">" as the last token; at most
// index.MaxTokens tokens.
func parseRulePattern(p string) ([]ptok, error) {
	if p == "" {
		return nil, fmt.Errorf("empty pattern")
	}
	parts := strings.Split(p, ".")
	if len(parts) > index.MaxTokens {
		return nil, fmt.Errorf("%q has %d tokens; at most %d", p, len(parts), index.MaxTokens)
	}
	toks := make([]ptok, len(parts))
	for i, s := range parts {
		switch {
		case s == "*":
			toks[i].kind = tokStar
		case s == ">":
			if i != len(parts)-1 {
				return nil, fmt.Errorf("%q: '>' must be the last token", p)
			}
			toks[i].kind = tokTail
		case s == userPlaceholder:
			toks[i].kind = tokUser
		case index.ValidChannel(s): // a single token: [A-Za-z0-9_-]+
			toks[i] = ptok{kind: tokLit, lit: s}
		default:
			return nil, fmt.Errorf("%q: token %d (%q) is not [A-Za-z0-9_-]+, '*', '>' or %s", p, i, s, userPlaceholder)
		}
	}
	return toks, nil
}

// parseSub splits a subscription (a channel or a pattern of PROTOCOL.md)
// into dst without allocating. ok is false when sub is not valid; wild is
// true when it has a '*' or '>' token.
func parseSub(sub string, dst *[index.MaxTokens]ptok) (n int, wild, ok bool) {
	if !index.ValidPattern(sub) {
		return 0, false, false
	}
	start := 0
	for i := 0; i <= len(sub); i++ {
		if i < len(sub) && sub[i] != '.' {
			continue
		}
		t := sub[start:i]
		switch t {
		case "*":
			dst[n] = ptok{kind: tokStar}
			wild = true
		case ">": // ValidPattern allows it only last
			dst[n] = ptok{kind: tokTail}
			wild = true
		default:
			dst[n] = ptok{kind: tokLit, lit: t}
		}
		n++
		start = i + 1
	}
	return n, wild, true
}

// overlaps reports whether some channel matches both a and b, taking
// "{user}" as "*". It ignores the channel length limits, so it may answer
// true where the only common channels would be too long: callers use it to
// deny, and a spurious overlap only denies more.
func overlaps(a, b []ptok) bool {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		x, y := a[i].kind, b[i].kind
		if x == tokTail || y == tokTail {
			return true // both have at least one token from i on
		}
		if x == tokLit && y == tokLit && a[i].lit != b[i].lit {
			return false
		}
	}
	return len(a) == len(b)
}

// covers reports whether every channel inner matches also matches outer.
// inner's "{user}" counts as "*". With strictUser, outer's "{user}" covers
// only a literal token (a wildcard there could stand for another user);
// without, it counts as "*" (which rule a channel falls under).
func covers(outer, inner []ptok, strictUser bool) bool {
	for i, o := range outer {
		if i >= len(inner) {
			return false // inner is shorter than anything outer matches
		}
		in := inner[i].kind
		if o.kind == tokTail {
			return true // inner has at least one token from i on
		}
		if in == tokTail {
			return false // inner reaches channels of any length from i on
		}
		switch o.kind {
		case tokLit:
			if in != tokLit || inner[i].lit != o.lit {
				return false
			}
		case tokUser:
			if strictUser && in != tokLit {
				return false
			}
		}
	}
	return len(inner) == len(outer)
}
