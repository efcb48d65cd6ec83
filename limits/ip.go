package limits

import (
	"encoding/binary"
	"net/http"
	"net/netip"
	"time"
)

// ipKey is the address group a limit counts by: an IPv4 address (IPv4-mapped
// IPv6 included) or an IPv6 /64. The encodings cannot collide: an IPv6 key
// has lo == 0, an IPv4 key has bit 32 of lo set, the invalid key is all ones.
type ipKey struct{ hi, lo uint64 }

// invalidKey groups every address that is not valid: one shared bucket.
var invalidKey = ipKey{^uint64(0), ^uint64(0)}

// keyOf returns ip's group. An IPv6 subscriber is usually given a whole
// /64, so counting single IPv6 addresses would let one client use 2^64.
func keyOf(ip netip.Addr) ipKey {
	ip = ip.Unmap()
	switch {
	case ip.Is4():
		b := ip.As4()
		return ipKey{lo: 1<<32 | uint64(binary.BigEndian.Uint32(b[:]))}
	case ip.Is6():
		b := ip.As16()
		return ipKey{hi: binary.BigEndian.Uint64(b[:8])}
	}
	return invalidKey
}

// shard picks one of n (a power of two) shards for k.
func (k ipKey) shard(n int) int {
	h := (k.hi ^ k.lo*0x9E3779B97F4A7C15) * 0xBF58476D1CE4E5B9
	return int(h>>32) & (n - 1)
}

// ClientIP returns the address of the peer of r, from r.RemoteAddr; the
// zero Addr when it cannot be parsed (all such requests share one limit).
// Forwarding headers (X-Forwarded-For) are ignored: wsfan faces clients
// directly, and a client can write any header it likes.
func ClientIP(r *http.Request) netip.Addr {
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr()
	}
	if a, err := netip.ParseAddr(r.RemoteAddr); err == nil {
		return a
	}
	return netip.Addr{}
}

// epoch is the origin of the package's int64 clock, a day before the
// process started, so every reading is positive and 0 can mean "long ago".
var epoch = time.Now().Add(-24 * time.Hour)

// nanos returns t as nanoseconds since epoch (monotonic when t has a
// monotonic reading, as time.Now's do).
func nanos(t time.Time) int64 { return int64(t.Sub(epoch)) }

// cacheLinePad separates shard locks.
const cacheLinePad = 128
