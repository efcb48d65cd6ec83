package index

import "strings"

// Matches reports whether the concrete channel matches pattern, a channel or
// pattern that satisfies ValidPattern: "*" matches one token, a last ">"
// one or more; any other token only itself. It allocates nothing. It is the
// matcher of everything that is not the trie: configured patterns
// ([history], [conflation], channel rules, NATS subjects).
func Matches(pattern, channel string) bool {
	for {
		pt, prest, pmore := strings.Cut(pattern, ".")
		ct, crest, cmore := strings.Cut(channel, ".")
		switch {
		case pt == ">" && !pmore:
			return true
		case pt != "*" && pt != ct:
			return false
		case !pmore || !cmore:
			return pmore == cmore
		}
		pattern, channel = prest, crest
	}
}
