package codec

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// The helpers in this file walk JSON that encoding/json's Valid has already
// accepted: they skip values and split objects and arrays without checking
// syntax again, so each byte of the input is visited a constant number of
// times whatever its nesting. They still check bounds, so input that was not
// validated cannot make them panic; it only yields nonsense.

// isSpace reports whether c is JSON insignificant whitespace.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

// skipWS returns the index of the first non-whitespace byte of b at or after i.
func skipWS(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// stringEnd returns the index just past the string that opens at b[i] ('"').
func stringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++ // skip the escaped byte; \uXXXX's hex digits need no care
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// valueEnd returns the index just past the value that starts at b[i].
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return len(b)
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = stringEnd(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(b)
	default: // number, true, false, null
		for i < len(b) {
			switch b[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return i
			}
			i++
		}
		return len(b)
	}
}

// members iterates over the members of one JSON object.
type members struct {
	b []byte
	i int
}

// newMembers returns an iterator over the object that starts at obj[0] ('{').
func newMembers(obj []byte) members {
	return members{b: obj, i: 1}
}

// next returns the next member's key (raw, with its quotes) and value (raw,
// without surrounding whitespace); ok is false after the last member.
func (m *members) next() (key, val []byte, ok bool) {
	b := m.b
	i := skipWS(b, m.i)
	if i < len(b) && b[i] == ',' {
		i = skipWS(b, i+1)
	}
	if i >= len(b) || b[i] != '"' {
		m.i = len(b)
		return nil, nil, false
	}
	ke := stringEnd(b, i)
	key = b[i:ke]
	i = skipWS(b, ke)
	if i < len(b) && b[i] == ':' {
		i = skipWS(b, i+1)
	}
	ve := valueEnd(b, i)
	val = b[i:ve]
	m.i = ve
	return key, val, len(val) > 0
}

// elements iterates over the elements of one JSON array.
type elements struct {
	b []byte
	i int
}

// newElements returns an iterator over the array that starts at arr[0] ('[').
func newElements(arr []byte) elements {
	return elements{b: arr, i: 1}
}

// next returns the next element (raw, without surrounding whitespace); ok is
// false after the last element.
func (e *elements) next() (val []byte, ok bool) {
	b := e.b
	i := skipWS(b, e.i)
	if i < len(b) && b[i] == ',' {
		i = skipWS(b, i+1)
	}
	if i >= len(b) || b[i] == ']' {
		e.i = len(b)
		return nil, false
	}
	ve := valueEnd(b, i)
	e.i = ve
	return b[i:ve], ve > i
}

// isNull reports whether the raw value v is JSON null.
func isNull(v []byte) bool {
	return string(v) == "null"
}

// isString reports whether the raw value v is a JSON string.
func isString(v []byte) bool {
	return len(v) >= 2 && v[0] == '"'
}

// stringIs reports whether the raw JSON string s decodes to want. It
// allocates only when s holds escapes.
func stringIs(s []byte, want string) bool {
	if len(s) < 2 {
		return false
	}
	inner := s[1 : len(s)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner) == want
	}
	return unquote(s) == want
}

// unquote decodes the raw JSON string s into a new string that does not
// alias s. Invalid UTF-8 and lone surrogates become U+FFFD, as encoding/json
// does.
func unquote(s []byte) string {
	if len(s) < 2 {
		return ""
	}
	inner := s[1 : len(s)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner)
	}
	var out string
	if err := json.Unmarshal(s, &out); err != nil {
		return string(bytes.ToValidUTF8(inner, []byte("\uFFFD"))) // not reached for validated input
	}
	return out
}

// parseUint parses a raw JSON number that must be a non-negative integer
// fitting in uint64 (no fraction, no exponent).
func parseUint(v []byte) (uint64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (1<<64-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// fields sets vals[i] to the raw value of obj's member names[i], the last
// one when a key repeats, and nil when it is absent or null (a null field
// counts as absent in commands). obj must be a valid JSON object.
func fields(obj []byte, names []string, vals [][]byte) {
	for m := newMembers(obj); ; {
		key, val, ok := m.next()
		if !ok {
			return
		}
		if isNull(val) {
			val = nil
		}
		for i, n := range names {
			if stringIs(key, n) {
				vals[i] = val
				break
			}
		}
	}
}
