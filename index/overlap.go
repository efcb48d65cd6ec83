package index

import "strings"

// Overlap reports whether some concrete channel matches both a and b,
// channels or patterns that satisfy ValidPattern ('*' one token, a last '>'
// one or more). With b concrete it is Matches(a, b). It allocates nothing.
func Overlap(a, b string) bool {
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
