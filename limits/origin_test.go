package limits

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestOriginChecker(t *testing.T) {
	o, err := NewOriginChecker([]string{
		"https://app.example.com",
		"http://localhost:3000",
		"https://*.example.org",
		"HTTPS://Admin.Example.NET:443/",
		"http://[::1]:8080",
	})
	if err != nil {
		t.Fatalf("NewOriginChecker: %v", err)
	}
	f := func(origin string, want bool) {
		t.Helper()
		if got := o.Allowed(origin); got != want {
			t.Fatalf("Allowed(%q) = %v; want %v", origin, got, want)
		}
	}
	f("https://app.example.com", true)
	f("https://APP.example.com", true)
	f("https://app.example.com:443", true)
	f("https://app.example.com:8443", false)
	f("http://app.example.com", false)
	f("https://app.example.com.evil.com", false)
	f("https://evilapp.example.com", false)
	f("https://app.example.com/", false) // an Origin has no path
	f("https://app.example.com/x", false)
	f("https://user@app.example.com", false)
	f("http://localhost:3000", true)
	f("http://localhost", false)
	f("http://localhost:30000", false)
	f("https://a.example.org", true)
	f("https://a.b.example.org", true)
	f("https://example.org", false)
	f("https://.example.org", false)
	f("https://a..example.org", false)
	f("https://evil.com/.example.org", false)
	f("https://evil.com?.example.org", false)
	f("https://evil.com#.example.org", false)
	f("https://evilexample.org", false)
	f("https://a.example.org:444", false)
	f("http://a.example.org", false)
	f("https://admin.example.net", true)
	f("http://[::1]:8080", true)
	f("http://[::1]", false)
	f("http://[::1]:8080x", false)
	f("null", false)
	f("", false)
	f("https://", false)
	f("https://app.example.com:", false)
	f("https://app.example.com:99999999", false)
	f("app.example.com", false)
	f("://app.example.com", false)

	check := func(origin string, want bool) {
		t.Helper()
		r := httptest.NewRequest("GET", "/ws", nil)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		if got := o.Check(r); got != want {
			t.Fatalf("Check(Origin %q) = %v; want %v", origin, got, want)
		}
	}
	check("", true) // non-browser client
	check("https://app.example.com", true)
	check("https://evil.com", false)

	if n := testing.AllocsPerRun(100, func() { o.Allowed("https://a.b.example.org") }); n != 0 {
		t.Fatalf("Allowed allocates %v times", n)
	}
}

func TestOriginCheckerAny(t *testing.T) {
	for _, list := range [][]string{nil, {"*"}, {"https://a.example.com", "*"}} {
		o, err := NewOriginChecker(list)
		if err != nil {
			t.Fatalf("NewOriginChecker(%q): %v", list, err)
		}
		for _, origin := range []string{"https://evil.com", "null", "garbage"} {
			if !o.Allowed(origin) {
				t.Fatalf("list %q refused %q", list, origin)
			}
		}
	}
}

func TestOriginCheckerBadEntries(t *testing.T) {
	for _, e := range []string{"", "example.com", "*.example.com", "https://*", "https://a.com/path",
		"https://a.com:x", "https://a b.com", "https://*.*.a.com", "ftp//a.com", "https://a.com:"} {
		_, err := NewOriginChecker([]string{"https://ok.example.com", e})
		if err == nil || !strings.Contains(err.Error(), "limits.allowed_origins[1]") {
			t.Fatalf("NewOriginChecker(%q) = %v; want an error naming limits.allowed_origins[1]", e, err)
		}
	}
}

func BenchmarkOriginChecker(b *testing.B) {
	o, _ := NewOriginChecker([]string{"https://app.example.com", "https://*.example.org"})
	b.ReportAllocs()
	for b.Loop() {
		o.Allowed("https://a.b.example.org")
	}
}
