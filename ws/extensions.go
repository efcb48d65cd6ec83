package ws

import "strings"

// deflateResponse is the permessage-deflate answer: neither side keeps
// compression state between messages (RFC 7692, section 7.1.1), so the
// server holds no deflater or inflater per connection.
const deflateResponse = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"

// NegotiateDeflate answers the Sec-WebSocket-Extensions values of an
// upgrade request: the first permessage-deflate offer the server can honour
// is accepted, and the answer to send back is returned; "" when there is
// none. An offer the server cannot honour (a server window below 15 bits,
// which its compressor does not keep to) or that is malformed (an unknown
// or repeated parameter, a bad value) is declined, never failed: the next
// offer is tried, and without one the connection goes on uncompressed.
func NegotiateDeflate(offers []string) string {
	for _, v := range offers {
		for offer := range strings.SplitSeq(v, ",") {
			if resp, ok := acceptDeflate(offer); ok {
				return resp
			}
		}
	}
	return ""
}

// acceptDeflate checks one offer (RFC 7692, section 7.1).
func acceptDeflate(offer string) (string, bool) {
	name, params, _ := strings.Cut(offer, ";")
	if !strings.EqualFold(strings.TrimSpace(name), "permessage-deflate") {
		return "", false
	}
	resp := deflateResponse
	seen := map[string]bool{}
	if strings.TrimSpace(params) == "" {
		return resp, true
	}
	for p := range strings.SplitSeq(params, ";") {
		key, val, hasVal := strings.Cut(p, "=")
		key = strings.ToLower(strings.TrimSpace(key))
		val = strings.TrimSpace(val)
		if seen[key] {
			return "", false
		}
		seen[key] = true
		switch key {
		case "server_no_context_takeover", "client_no_context_takeover":
			if hasVal {
				return "", false
			}
		case "client_max_window_bits": // any window: the inflater takes 15 bits
			if hasVal && !windowBits(val) {
				return "", false
			}
		case "server_max_window_bits":
			if !hasVal || !windowBits(val) || unquote(val) != "15" {
				return "", false
			}
			resp += "; server_max_window_bits=15"
		default:
			return "", false
		}
	}
	return resp, true
}

// windowBits reports whether v is a window size of 8 to 15 bits, plain or
// quoted, without a leading zero (RFC 7692, section 7.1.2).
func windowBits(v string) bool {
	if len(v) >= 2 && v[0] == '"' {
		if v[len(v)-1] != '"' {
			return false
		}
		v = v[1 : len(v)-1]
	}
	switch v {
	case "8", "9", "10", "11", "12", "13", "14", "15":
		return true
	}
	return false
}

func unquote(v string) string { return strings.Trim(v, `"`) }
