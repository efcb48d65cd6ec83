package limits

import (
	"fmt"
	"net/http"
	"strings"
)

// OriginChecker decides whether a browser page's Origin may open a
// WebSocket: the defence against cross-site WebSocket hijacking. It does
// not authenticate anything: a non-browser client sends whatever Origin it
// likes, or none. It is immutable; Check is safe for concurrent use and
// does not allocate.
type OriginChecker struct {
	any   bool
	exact []origin
	wild  []origin // host holds the suffix, with its leading '.'
}

// origin is a normalized scheme://host[:port]: lower case, default port
// removed.
type origin struct {
	scheme, host, port string
}

// NewOriginChecker returns a checker for the allow-list: exact origins
// ("https://app.example.com", "http://localhost:3000"), subdomain wildcards
// ("https://*.example.com": any depth of subdomain, not example.com
// itself) and "*" (any). An empty list allows any origin. Schemes and hosts
// are compared case-insensitively; a default port (:443 for https, :80 for
// http) is the same as none. An entry's error names it but not its key:
// Config.Validate adds "limits.allowed_origins[i]".
func NewOriginChecker(allowed []string) (*OriginChecker, error) {
	o := &OriginChecker{any: len(allowed) == 0}
	for i, s := range allowed {
		a, err := parseAllowedOrigin(s)
		if err != nil {
			return nil, fmt.Errorf("limits.allowed_origins[%d]: %w", i, err)
		}
		switch {
		case a == nil:
			o.any = true
		case strings.HasPrefix(a.host, "*."):
			a.host = a.host[1:]
			o.wild = append(o.wild, *a)
		default:
			o.exact = append(o.exact, *a)
		}
	}
	return o, nil
}

// parseAllowedOrigin parses an allow-list entry; nil for "*".
func parseAllowedOrigin(s string) (*origin, error) {
	if s == "*" {
		return nil, nil
	}
	host := strings.TrimSuffix(s, "/")
	wild := false
	if scheme, rest, ok := strings.Cut(host, "://"); ok && strings.HasPrefix(rest, "*.") {
		wild = true
		host = scheme + "://" + rest[2:]
	}
	o, ok := parseOrigin(host)
	if !ok {
		return nil, fmt.Errorf("%q is not \"*\" or scheme://host[:port] (a host may start with \"*.\")", s)
	}
	o.scheme = strings.ToLower(o.scheme)
	o.host = strings.ToLower(o.host)
	if wild {
		o.host = "*." + o.host
	}
	return &o, nil
}

// Check reports whether r may upgrade: true when r has no Origin header,
// else Allowed(origin).
func (o *OriginChecker) Check(r *http.Request) bool {
	v := r.Header.Get("Origin")
	return v == "" || o.Allowed(v)
}

// Allowed reports whether the Origin header value v is on the list. A
// malformed value, and "null" (sandboxed pages, file: URLs), are allowed
// only by "*" or an empty list.
func (o *OriginChecker) Allowed(v string) bool {
	if o.any {
		return true
	}
	req, ok := parseOrigin(v)
	if !ok {
		return false
	}
	for _, a := range o.exact {
		if strings.EqualFold(req.scheme, a.scheme) && strings.EqualFold(req.host, a.host) && req.port == a.port {
			return true
		}
	}
	for _, a := range o.wild {
		h := req.host
		if len(h) > len(a.host) && strings.EqualFold(req.scheme, a.scheme) &&
			strings.EqualFold(h[len(h)-len(a.host):], a.host) && req.port == a.port {
			return true
		}
	}
	return false
}

// parseOrigin splits scheme://host[:port] without allocating. The host is a
// DNS name or IPv4 address ([A-Za-z0-9.-]) or a bracketed IPv6 address; the
// port is digits; nothing may follow. A default port is dropped. Cases are
// kept.
func parseOrigin(v string) (origin, bool) {
	scheme, rest, ok := strings.Cut(v, "://")
	if !ok || !validScheme(scheme) || rest == "" {
		return origin{}, false
	}
	var host, port string
	if rest[0] == '[' {
		end := strings.IndexByte(rest, ']')
		if end < 2 {
			return origin{}, false
		}
		host, rest = rest[:end+1], rest[end+1:]
		for i := 1; i < len(host)-1; i++ {
			c := host[i]
			if !(isHex(c) || c == ':' || c == '.') {
				return origin{}, false
			}
		}
		if rest != "" {
			if rest[0] != ':' {
				return origin{}, false
			}
			port = rest[1:]
		}
	} else {
		host = rest
		if i := strings.LastIndexByte(rest, ':'); i >= 0 {
			host, port = rest[:i], rest[i+1:]
		}
		if host == "" || host[0] == '.' || host[len(host)-1] == '.' {
			return origin{}, false
		}
		for i := 0; i < len(host); i++ {
			c := host[i]
			if !(isAlnum(c) || c == '-' || c == '.') || (c == '.' && host[i-1] == '.') {
				return origin{}, false
			}
		}
	}
	if port != "" || strings.HasSuffix(rest, ":") {
		if port == "" || len(port) > 5 {
			return origin{}, false
		}
		for i := 0; i < len(port); i++ {
			if port[i] < '0' || port[i] > '9' {
				return origin{}, false
			}
		}
	}
	if (port == "443" && strings.EqualFold(scheme, "https")) || (port == "80" && strings.EqualFold(scheme, "http")) {
		port = ""
	}
	return origin{scheme: scheme, host: host, port: port}, true
}

// validScheme reports whether s is an RFC 3986 scheme.
func validScheme(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(isAlnum(c) || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isAlnum(c byte) bool { return isAlpha(c) || (c >= '0' && c <= '9') }
func isHex(c byte) bool   { return (c >= '0' && c <= '9') || (c|0x20 >= 'a' && c|0x20 <= 'f') }
