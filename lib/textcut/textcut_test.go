package textcut

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// cuts are strings, byte limits, and what Prefix and Clip make of them.
var cuts = []struct {
	s            string
	n            int
	prefix, clip string
}{
	{"", 3, "", ""},
	{"abc", 3, "abc", "abc"},
	{"abcd", 3, "abc", "abc..."},
	{"abc", 0, "", "..."},
	{"ab\u00e9", 3, "ab", "ab..."},                       // é is 2 bytes: backs up to its start
	{"ab\u00e9", 4, "ab\u00e9", "ab\u00e9"},              // fits
	{"ab\u00e9z", 3, "ab", "ab..."},                      // the same, not at the end
	{"a\U0001F600x", 4, "a", "a..."},                     // 4-byte rune cut: dropped whole
	{"a\U0001F600x", 5, "a\U0001F600", "a\U0001F600..."}, // rune fits exactly
	{"\xff\xff\xff\xff", 2, "\xff\xff", "\xff\xff..."},   // invalid UTF-8: cut at n
	{strings.Repeat("é", 100), 123, strings.Repeat("é", 61), strings.Repeat("é", 61) + "..."},
}

func TestPrefix(t *testing.T) {
	for _, c := range cuts {
		if got := Prefix(c.s, c.n); got != c.prefix {
			t.Errorf("Prefix(%q, %d) = %q; want %q", c.s, c.n, got, c.prefix)
		}
	}
}

func TestClip(t *testing.T) {
	for _, c := range cuts {
		if got := Clip(c.s, c.n); got != c.clip {
			t.Errorf("Clip(%q, %d) = %q; want %q", c.s, c.n, got, c.clip)
		}
	}
}

func FuzzPrefix(f *testing.F) {
	f.Add("ab\u00e9", 3)
	f.Add("\U0001F600\U0001F600", 5)
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 0 || n > 1<<16 {
			return
		}
		p := Prefix(s, n)
		if len(p) > n || !strings.HasPrefix(s, p) {
			t.Fatalf("Prefix(%q, %d) = %q", s, n, p)
		}
		if utf8.ValidString(s) && !utf8.ValidString(p) {
			t.Fatalf("Prefix(%q, %d) = %q cuts a rune", s, n, p)
		}
		if utf8.ValidString(s) && len(s) > n && n-len(p) >= utf8.UTFMax {
			t.Fatalf("Prefix(%q, %d) = %q drops more than a rune", s, n, p)
		}
	})
}
