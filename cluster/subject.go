package cluster

import "strings"

// overlap reports whether some concrete channel matches both a and b, which
// are valid wsfan channels or patterns ('*' one token, a last '>' one or
// more tokens, as in NATS). With b concrete it is "does pattern a match
// channel b". It does not allocate.
func overlap(a, b string) bool {
	for {
		ta, restA, moreA := strings.Cut(a, ".")
		tb, restB, moreB := strings.Cut(b, ".")
		if ta == ">" || tb == ">" {
			return true // both have a token here; '>' takes it and any rest
		}
		if ta != "*" && tb != "*" && ta != tb {
			return false
		}
		if !moreA || !moreB {
			// One ran out of tokens: only a '>' next on the other could
			// match, and '>' needs at least one token.
			return !moreA && !moreB
		}
		a, b = restA, restB
	}
}

// fnv32 is FNV-1a over s's bytes, without allocating. It picks a channel's
// delivery worker.
func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h ^ h>>16 // fold: the worker is picked by h mod a small number
}
