package textcut

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPrefix(t *testing.T) {
	f := func(s string, n int, want string) {
		t.Helper()
		if got := Prefix(s, n); got != want {
			t.Fatalf("Prefix(%q, %d) = %q; want %q", s, n, got, want)
		}
	}
	f("", 3, "")
	f("abc", 3, "abc")
	f("abcd", 3, "abc")
	f("abc", 0, "")
	f("ab\u00e9", 3, "ab")               // é is 2 bytes: backs up to its start
	f("ab\u00e9", 4, "ab\u00e9")         // fits
	f("a\U0001F600x", 4, "a")            // 4-byte rune cut: dropped whole
	f("a\U0001F600x", 5, "a\U0001F600")  // rune fits exactly
	f("\xff\xff\xff\xff", 2, "\xff\xff") // invalid UTF-8: cut at n
	f(strings.Repeat("é", 100), 123, strings.Repeat("é", 61))
}

func TestClip(t *testing.T) {
	f := func(s string, n int, want string) {
		t.Helper()
		if got := Clip(s, n); got != want {
			t.Fatalf("Clip(%q, %d) = %q; want %q", s, n, got, want)
		}
	}
	f("abc", 3, "abc")
	f("abcd", 3, "abc...")
	f("ab\u00e9z", 3, "ab...")
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
