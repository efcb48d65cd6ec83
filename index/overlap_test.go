package index

import "testing"

func TestOverlap(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"a.b", "a.b", true}, {"a.b", "a.c", false}, {"a.*", "a.b", true}, {"a.*", "*.b", true},
		{"a.>", "a.b.c", true}, {"a.>", "a", false}, {">", "x.y", true}, {"a.*", "a.b.c", false},
		{"token.*.ticker", "token.>", true}, {"token.*.ticker", "token.*.trade", false},
		{"token.*.ticker", "*.BTC.*", true}, {"token.*", "token.*.ticker", false}, {"*", ">", true},
	} {
		if got := Overlap(tc.a, tc.b); got != tc.want {
			t.Errorf("Overlap(%q, %q) = %v; want %v", tc.a, tc.b, got, tc.want)
		}
		if got := Overlap(tc.b, tc.a); got != tc.want {
			t.Errorf("Overlap(%q, %q) = %v; want %v (symmetric)", tc.b, tc.a, got, tc.want)
		}
		if !IsPattern(tc.b) && Overlap(tc.a, tc.b) != Matches(tc.a, tc.b) {
			t.Errorf("Overlap(%q, %q) disagrees with Matches", tc.a, tc.b)
		}
	}
}
