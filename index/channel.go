package index

import "errors"

// MaxChannelLen is the longest channel name or pattern, in bytes.
const MaxChannelLen = 128

// MaxTokens is the most '.'-separated tokens a channel name or pattern may have.
const MaxTokens = 16

// ErrInvalidChannel is the error for a name that fails ValidChannel or
// ValidPattern. The index itself does not return it: callers validate, wrap
// it, and report it to clients with the INVALID_CHANNEL code.
var ErrInvalidChannel = errors.New("index: invalid channel")

// tokenByte marks the bytes allowed in a concrete token: [A-Za-z0-9_-].
var tokenByte = func() (t [256]bool) {
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
		t[c-'A'+'a'] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	t['_'] = true
	t['-'] = true
	return t
}()

// ValidChannel reports whether s is a concrete channel name: 1 to MaxTokens
// tokens of [A-Za-z0-9_-]+ joined by '.', at most MaxChannelLen bytes.
// It does not allocate.
func ValidChannel(s string) bool {
	return valid(s, false)
}

// ValidPattern reports whether s is a valid subscription: a concrete channel,
// or a pattern in which a token may be exactly "*" (one token) and the last
// token may be exactly ">" (one or more tokens), as NATS subjects have them.
// The limits of ValidChannel apply. It does not allocate.
func ValidPattern(s string) bool {
	return valid(s, true)
}

// IsPattern reports whether s has a wildcard token: a token "*" or a last
// token ">". The answer is meaningful only for s that satisfy ValidPattern.
func IsPattern(s string) bool {
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '.' {
			continue
		}
		if i-start == 1 && (s[start] == '*' || (s[start] == '>' && i == len(s))) {
			return true
		}
		start = i + 1
	}
	return false
}

// valid checks s in one pass; wildcards allows "*" tokens and a last ">" token.
func valid(s string, wildcards bool) bool {
	if len(s) == 0 || len(s) > MaxChannelLen {
		return false
	}
	tokens := 1
	start := 0 // first byte of the current token
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case tokenByte[c]:
		case c == '.':
			if i == start {
				return false // empty token
			}
			tokens++
			if tokens > MaxTokens {
				return false
			}
			start = i + 1
		case !wildcards:
			return false
		case c == '*':
			// "*" must be a whole token.
			if i != start || (i+1 < len(s) && s[i+1] != '.') {
				return false
			}
		case c == '>':
			// ">" must be the whole last token.
			if i != start || i+1 != len(s) {
				return false
			}
		default:
			return false
		}
	}
	return start < len(s) // the last token is not empty
}
