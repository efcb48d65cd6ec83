package limits

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

func TestClientIP(t *testing.T) {
	c, err := NewClientIP(Config{TrustedProxies: []string{"10.0.0.0/8", "192.0.2.7", "2001:db8:1::/48"}})
	if err != nil {
		t.Fatal(err)
	}
	f := func(remote string, xff []string, realIP, want string) {
		t.Helper()
		r := &http.Request{RemoteAddr: remote, Header: http.Header{}}
		for _, v := range xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if realIP != "" {
			r.Header.Set("X-Real-IP", realIP)
		}
		got := c.Of(r)
		if w := netip.MustParseAddr(want); got != w {
			t.Fatalf("Of(%s, XFF %q, X-Real-IP %q) = %v; want %v", remote, xff, realIP, got, w)
		}
	}
	// An untrusted peer is the client, whatever it writes.
	f("203.0.113.5:4000", []string{"1.1.1.1"}, "2.2.2.2", "203.0.113.5")
	f("[2001:db8:2::1]:443", []string{"1.1.1.1"}, "", "2001:db8:2::1")
	// A trusted proxy: the rightmost hop that is not a trusted proxy.
	f("10.1.2.3:4000", []string{"198.51.100.9"}, "", "198.51.100.9")
	f("10.1.2.3:4000", []string{"6.6.6.6, 198.51.100.9, 10.9.9.9"}, "", "198.51.100.9") // 6.6.6.6 was written by the client
	f("10.1.2.3:4000", []string{"6.6.6.6", "198.51.100.9, 192.0.2.7"}, "", "198.51.100.9")
	f("[2001:db8:1::5]:80", []string{"[2001:db8:9::1]:5555"}, "", "2001:db8:9::1")
	f("10.1.2.3:4000", []string{"198.51.100.9:1234"}, "", "198.51.100.9")
	f("[::ffff:10.1.2.3]:4000", []string{"198.51.100.9"}, "", "198.51.100.9") // IPv4-mapped peer
	// Every hop a trusted proxy, or none: X-Real-IP, else the peer.
	f("10.1.2.3:4000", []string{"10.0.0.1"}, "198.51.100.10", "198.51.100.10")
	f("10.1.2.3:4000", nil, "198.51.100.10", "198.51.100.10")
	f("10.1.2.3:4000", nil, "garbage", "10.1.2.3")
	// A hop that does not parse: nothing left of it is believed.
	f("10.1.2.3:4000", []string{"198.51.100.9, unknown"}, "", "10.1.2.3")

	// The zero ClientIP trusts nobody.
	var none ClientIP
	if got := none.Of(&http.Request{RemoteAddr: "10.1.2.3:4000", Header: http.Header{"X-Forwarded-For": {"1.1.1.1"}}}); got != netip.MustParseAddr("10.1.2.3") {
		t.Fatalf("zero ClientIP: %v", got)
	}
}

func TestTrustedProxiesValidate(t *testing.T) {
	c := Default()
	c.TrustedProxies = []string{"10.0.0.0/8", "::1", "bad", "10.0.0.0/33"}
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate accepted bad trusted_proxies")
	}
	for _, want := range []string{"trusted_proxies[2]", "trusted_proxies[3]"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q does not name %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "trusted_proxies[0]") || strings.Contains(err.Error(), "trusted_proxies[1]") {
		t.Fatalf("error %q names a valid entry", err)
	}
}
