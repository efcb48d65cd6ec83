package limits

import (
	"encoding/binary"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
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

// Shard picks one of n (a power of two) shards for k (stripe.Key).
func (k ipKey) Shard(n int) int {
	h := (k.hi ^ k.lo*0x9E3779B97F4A7C15) * 0xBF58476D1CE4E5B9
	return int(h>>32) & (n - 1)
}

// ClientIP finds the client address of a request: the TCP peer, or, when
// the peer is a trusted reverse proxy, the address the proxies forwarded.
// The zero value trusts no proxy. It is safe for concurrent use.
type ClientIP struct {
	trusted []netip.Prefix
}

// NewClientIP returns a ClientIP trusting the proxies of cfg.TrustedProxies,
// which Validate has checked.
func NewClientIP(cfg Config) (*ClientIP, error) {
	c := &ClientIP{}
	for _, s := range cfg.TrustedProxies {
		p, err := parsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("limits.trusted_proxies: %w", err)
		}
		c.trusted = append(c.trusted, p)
	}
	return c, nil
}

// parsePrefix parses a CIDR, or a single address as a one-address prefix.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a CIDR: %w", s, err)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is neither a CIDR nor an address: %w", s, err)
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// Of returns r's client address: r.RemoteAddr's, unless that peer is a
// trusted proxy; then the rightmost X-Forwarded-For address that is not a
// trusted proxy (each proxy appends the address it got the request from),
// else X-Real-IP, else the peer. The zero Addr when nothing parses (all
// such requests share one limit).
func (c *ClientIP) Of(r *http.Request) netip.Addr {
	peer := peerAddr(r.RemoteAddr)
	if !c.isTrusted(peer) {
		return peer
	}
	xff := r.Header.Values("X-Forwarded-For")
	for i := len(xff) - 1; i >= 0; i-- {
		hops := strings.Split(xff[i], ",")
		for j := len(hops) - 1; j >= 0; j-- {
			a := hopAddr(hops[j])
			if !a.IsValid() {
				return peer // a hop we cannot read: trust nothing left of it
			}
			if !c.isTrusted(a) {
				return a
			}
		}
	}
	if a := hopAddr(r.Header.Get("X-Real-IP")); a.IsValid() {
		return a
	}
	return peer
}

func (c *ClientIP) isTrusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range c.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// peerAddr parses r.RemoteAddr ("ip:port", or a bare address).
func peerAddr(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap()
	}
	return netip.Addr{}
}

// hopAddr parses one forwarded address: "1.2.3.4", "2001:db8::1",
// "[2001:db8::1]" or any of them with a port.
func hopAddr(s string) netip.Addr {
	s = strings.TrimSpace(s)
	if a := peerAddr(s); a.IsValid() {
		return a
	}
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err == nil {
		return a.Unmap()
	}
	return netip.Addr{}
}
