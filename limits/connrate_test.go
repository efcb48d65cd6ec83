package limits

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"time"
	"wsfan/lib/stripe"
)

func TestConnRatePerIP(t *testing.T) {
	c := Default()
	c.NewConnectionsPerSecond = Off
	c.NewConnectionsPerIPPerSecond = 10 // one per 100ms
	c.NewConnectionsPerIPBurst = 3
	r := NewConnRate(c)
	base := time.Now()
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")
	f := func(ip netip.Addr, at time.Duration, want bool) {
		t.Helper()
		if got := r.Admit(ip, base.Add(at)) == Admitted; got != want {
			t.Fatalf("Admit(%s, +%v) = %v; want %v", ip, at, got, want)
		}
	}
	f(a, 0, true)
	f(a, 0, true)
	f(a, 0, true)
	f(a, 0, false) // burst spent
	f(b, 0, true)  // another address is not affected
	f(a, 50*time.Millisecond, false)
	f(a, 100*time.Millisecond, true) // one token back
	f(a, 100*time.Millisecond, false)
	f(a, time.Second, true) // full again: burst of 3
	f(a, time.Second, true)
	f(a, time.Second, true)
	f(a, time.Second, false)
	// The same /64 shares a bucket.
	f(netip.MustParseAddr("2001:db8::2"), 0, true)
	f(netip.MustParseAddr("2001:db8::3"), 0, true)
	f(netip.MustParseAddr("2001:db8::4"), 0, false)
}

func TestConnRateGlobal(t *testing.T) {
	c := Default()
	c.NewConnectionsPerSecond = 100
	c.NewConnectionsBurst = 5
	c.NewConnectionsPerIPPerSecond = Off
	r := NewConnRate(c)
	base := time.Now()
	for i := range 5 {
		if r.Admit(netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}), base) != Admitted {
			t.Fatalf("connection %d refused within the burst", i)
		}
	}
	if a := r.Admit(netip.MustParseAddr("10.1.0.0"), base); a != RefusedGlobal {
		t.Fatalf("connection past the global burst: %v; want %v", a, RefusedGlobal)
	}
	if r.Admit(netip.MustParseAddr("10.1.0.0"), base.Add(10*time.Millisecond)) != Admitted {
		t.Fatal("global bucket did not refill")
	}
	if r.Tracked() != 0 {
		t.Fatal("per-address buckets kept with the per-address limit off")
	}
}

// TestConnRatePerIPBeforeGlobal: an address over its own limit must not
// drain the global bucket.
func TestConnRatePerIPBeforeGlobal(t *testing.T) {
	c := Default()
	c.NewConnectionsPerSecond = 1
	c.NewConnectionsBurst = 2
	c.NewConnectionsPerIPPerSecond = 1
	c.NewConnectionsPerIPBurst = 1
	r := NewConnRate(c)
	base := time.Now()
	bad := netip.MustParseAddr("192.0.2.66")
	if r.Admit(bad, base) != Admitted {
		t.Fatal("first connection refused")
	}
	for range 100 {
		if a := r.Admit(bad, base); a != RefusedPerIP {
			t.Fatalf("Admit over the address's rate = %v; want %v", a, RefusedPerIP)
		}
	}
	if r.Admit(netip.MustParseAddr("192.0.2.1"), base) != Admitted {
		t.Fatal("an abusive address drained the global bucket")
	}
}

func TestAdmissionString(t *testing.T) {
	if Admitted.String() != "admitted" || RefusedPerIP.String() != "per_ip" || RefusedGlobal.String() != "global" ||
		Admission(7).String() != "unknown" {
		t.Fatal("Admission.String")
	}
}

func TestConnRateOff(t *testing.T) {
	c := Default()
	c.NewConnectionsPerSecond = Off
	c.NewConnectionsPerIPPerSecond = Off
	r := NewConnRate(c)
	for range 10000 {
		if !r.Allow(netip.MustParseAddr("192.0.2.1")) {
			t.Fatal("refused with every limit off")
		}
	}
}

// TestConnRateBounded: 100K distinct addresses (IPv4 and IPv6 /64s) at
// once keep at most max_tracked_ips buckets; once they have refilled, the
// next sweeps empty the table.
func TestConnRateBounded(t *testing.T) {
	for _, size := range []int{4096, DefaultMaxTrackedIPs} {
		t.Run(fmt.Sprintf("max_tracked_ips=%d", size), func(t *testing.T) {
			testConnRateBounded(t, size)
		})
	}
}

func testConnRateBounded(t *testing.T, size int) {
	c := Default()
	c.NewConnectionsPerSecond = Off
	c.MaxTrackedIPs = size
	r := NewConnRate(c)
	base := time.Now()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const n = 100_000
	for i := range n {
		var ip netip.Addr
		if i%2 == 0 {
			var b [4]byte
			binary.BigEndian.PutUint32(b[:], uint32(i))
			ip = netip.AddrFrom4(b)
		} else {
			var b [16]byte
			b[0], b[1] = 0x20, 0x01
			binary.BigEndian.PutUint64(b[:8], 0x2001_0db8_0000_0000|uint64(i))
			ip = netip.AddrFrom16(b)
		}
		if r.Admit(ip, base) != Admitted {
			t.Fatalf("address %d refused on its first connection", i)
		}
		if i%10_000 == 0 {
			if got := r.Tracked(); got > c.MaxTrackedIPs {
				t.Fatalf("after %d addresses Tracked() = %d; want <= %d", i+1, got, c.MaxTrackedIPs)
			}
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	got := r.Tracked()
	if got > c.MaxTrackedIPs {
		t.Fatalf("Tracked() = %d after %d addresses; want <= %d", got, n, c.MaxTrackedIPs)
	}
	t.Logf("%d addresses: %d buckets tracked, heap grew %d KiB", n, got, (int64(after.HeapInuse)-int64(before.HeapInuse))/1024)

	// Later, every bucket has refilled: a sweep per shard clears them.
	later := base.Add(time.Minute)
	for i := range 16 * stripe.Shards {
		r.Admit(netip.AddrFrom4([4]byte{203, 0, 113, byte(i)}), later)
	}
	if got := r.Tracked(); got > 16*stripe.Shards {
		t.Fatalf("Tracked() = %d after the sweeps; want <= %d", got, 16*stripe.Shards)
	}
}

func BenchmarkConnRate(b *testing.B) {
	r := NewConnRate(Default())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := uint32(0)
		for pb.Next() {
			i++
			var a [4]byte
			binary.BigEndian.PutUint32(a[:], i)
			r.Allow(netip.AddrFrom4(a))
		}
	})
}
