package textcut

import "unicode/utf8"

// Prefix returns the longest prefix of s of at most n bytes that does not
// end inside a multi-byte rune. Invalid UTF-8 is cut at n bytes.
func Prefix(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	for j := n; j >= 0 && j > n-utf8.UTFMax; j-- {
		if utf8.RuneStart(s[j]) {
			return s[:j]
		}
	}
	return s[:n]
}

// Clip returns s when it is at most n bytes long, else its Prefix of n
// bytes followed by "...".
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return Prefix(s, n) + "..."
}
