package limits

import (
	"math/rand/v2"
	"net/netip"
	"sync"
	"testing"
)

func TestPerIP(t *testing.T) {
	p := NewPerIP(2)
	f := func(ip string, want bool) {
		t.Helper()
		if got := p.Acquire(netip.MustParseAddr(ip)); got != want {
			t.Fatalf("Acquire(%s) = %v; want %v", ip, got, want)
		}
	}
	f("192.0.2.1", true)
	f("192.0.2.1", true)
	f("192.0.2.1", false)
	f("::ffff:192.0.2.1", false) // IPv4-mapped is the same address
	f("192.0.2.2", true)
	// IPv6 counts by /64.
	f("2001:db8::1", true)
	f("2001:db8::ffff:2", true)
	f("2001:db8::3", false)
	f("2001:db8:0:1::1", true)
	// ::/64 and IPv4 addresses do not share a group.
	f("::1", true)
	f("::2", true)
	f("0.0.0.1", true)

	if n := p.Count(netip.MustParseAddr("2001:db8::99")); n != 2 {
		t.Fatalf("Count(2001:db8::/64) = %d; want 2", n)
	}
	p.Release(netip.MustParseAddr("192.0.2.1"))
	f("192.0.2.1", true)

	// Release everything: the table must be empty.
	for _, ip := range []string{"192.0.2.1", "192.0.2.1", "192.0.2.2", "2001:db8::1", "2001:db8::2",
		"2001:db8:0:1::1", "::1", "::1", "0.0.0.1"} {
		p.Release(netip.MustParseAddr(ip))
	}
	if n := p.Groups(); n != 0 {
		t.Fatalf("Groups() = %d after every Release; want 0", n)
	}
	// Unmatched Releases are ignored.
	p.Release(netip.MustParseAddr("198.51.100.1"))
	f("198.51.100.1", true)
	f("198.51.100.1", true)
	f("198.51.100.1", false)

	// Invalid addresses share one group.
	f("0.0.0.0", true)
	first, second, third := p.Acquire(netip.Addr{}), p.Acquire(netip.Addr{}), p.Acquire(netip.Addr{})
	if !first || !second || third {
		t.Fatal("the zero Addr is not limited like an address")
	}
}

func TestPerIPOff(t *testing.T) {
	p := NewPerIP(Off)
	ip := netip.MustParseAddr("192.0.2.1")
	for range 1000 {
		if !p.Acquire(ip) {
			t.Fatal("Acquire refused with the limit off")
		}
	}
	p.Release(ip)
	if p.Groups() != 0 {
		t.Fatal("PerIP(Off) tracks addresses")
	}
}

// TestPerIPNoLeak acquires and releases from many goroutines on many
// addresses: at the end no entry may be left.
func TestPerIPNoLeak(t *testing.T) {
	p := NewPerIP(3)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			var held []netip.Addr
			for range 5000 {
				if len(held) > 0 && rng.IntN(2) == 0 {
					i := rng.IntN(len(held))
					p.Release(held[i])
					held = append(held[:i], held[i+1:]...)
					continue
				}
				ip := netip.AddrFrom4([4]byte{10, 0, byte(rng.IntN(4)), byte(rng.IntN(64))})
				if p.Acquire(ip) {
					held = append(held, ip)
				}
			}
			for _, ip := range held {
				p.Release(ip)
			}
		})
	}
	wg.Wait()
	if n := p.Groups(); n != 0 {
		t.Fatalf("Groups() = %d after every connection closed; want 0", n)
	}
}

func TestKeyOf(t *testing.T) {
	f := func(a, b string, same bool) {
		t.Helper()
		if got := keyOf(netip.MustParseAddr(a)) == keyOf(netip.MustParseAddr(b)); got != same {
			t.Fatalf("keyOf(%s) == keyOf(%s) is %v; want %v", a, b, got, same)
		}
	}
	f("1.2.3.4", "::ffff:1.2.3.4", true)
	f("1.2.3.4", "1.2.3.5", false)
	f("2001:db8::1", "2001:db8::2", true)
	f("2001:db8::1%eth0", "2001:db8::2", true)
	f("2001:db8::1", "2001:db8:0:1::1", false)
	f("::", "0.0.0.0", false)
	f("::1", "0.0.0.1", false)
	if keyOf(netip.Addr{}) != invalidKey || keyOf(netip.MustParseAddr("ffff:ffff:ffff:ffff::")) == invalidKey {
		t.Fatal("invalid key collides")
	}
}

func BenchmarkPerIP(b *testing.B) {
	p := NewPerIP(100)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ip := netip.AddrFrom4([4]byte{10, 0, 0, byte(rand.IntN(256))})
		for pb.Next() {
			if p.Acquire(ip) {
				p.Release(ip)
			}
		}
	})
}
