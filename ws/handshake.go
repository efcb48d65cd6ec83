package ws

import (
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"strings"
)

// MaxRequestHeaderBytes bounds an upgrade request's header: the request
// line and every header field, as they were on the wire, give or take the
// line ends. Browsers send a few hundred bytes plus cookies; past this the
// answer is 431.
const MaxRequestHeaderBytes = 16 << 10

// HandshakeError is an upgrade request refused before the upgrade: the HTTP
// status and a short text to answer with.
type HandshakeError struct {
	Status  int
	Message string
}

func (e *HandshakeError) Error() string { return "ws: " + e.Message }

// CheckRequest returns the Sec-WebSocket-Key of r when r is a valid opening
// handshake (RFC 6455, section 4.2.1): GET over HTTP/1.1 or later, a Host,
// "Upgrade: websocket", "Connection: Upgrade", a key that is the base64 of
// 16 bytes, version 13, and a header of at most MaxRequestHeaderBytes. A
// wrong version gets 426 (answer it with the Sec-WebSocket-Version header
// SupportedVersion), other faults 400, 405 or 431.
func CheckRequest(r *http.Request) (key string, err *HandshakeError) {
	bad := func(status int, msg string) (string, *HandshakeError) {
		return "", &HandshakeError{Status: status, Message: msg}
	}
	switch {
	case headerBytes(r) > MaxRequestHeaderBytes:
		return bad(http.StatusRequestHeaderFieldsTooLarge, "request header too large")
	case r.Method != http.MethodGet:
		return bad(http.StatusMethodNotAllowed, "a WebSocket upgrade is a GET request")
	case !r.ProtoAtLeast(1, 1):
		return bad(http.StatusBadRequest, "a WebSocket upgrade needs HTTP/1.1")
	case r.Host == "":
		return bad(http.StatusBadRequest, "missing Host header")
	case !hasToken(r.Header["Upgrade"], "websocket"):
		return bad(http.StatusBadRequest, "missing Upgrade: websocket")
	case !hasToken(r.Header["Connection"], "upgrade"):
		return bad(http.StatusBadRequest, "missing Connection: Upgrade")
	}
	keys := r.Header["Sec-Websocket-Key"]
	if len(keys) != 1 || !validKey(keys[0]) {
		return bad(http.StatusBadRequest, "Sec-WebSocket-Key must be the base64 of 16 bytes")
	}
	if v := r.Header["Sec-Websocket-Version"]; len(v) != 1 || strings.TrimSpace(v[0]) != SupportedVersion {
		return bad(http.StatusUpgradeRequired, "unsupported Sec-WebSocket-Version; this server speaks 13")
	}
	return keys[0], nil
}

// SupportedVersion is the only Sec-WebSocket-Version spoken (RFC 6455).
const SupportedVersion = "13"

// validKey reports whether key is the base64 of 16 bytes: 24 characters
// ending in "==" (RFC 6455, section 4.1, item 7).
func validKey(key string) bool {
	if len(key) != 24 {
		return false
	}
	var b [18]byte
	n, err := base64.StdEncoding.Decode(b[:], []byte(key))
	return err == nil && n == 16
}

// headerBytes estimates the size of r's request line and header fields as
// sent: each field costs its name, its value and 4 bytes of ": " and CRLF.
func headerBytes(r *http.Request) int {
	n := len(r.Method) + len(r.RequestURI) + len(r.Proto) + len(r.Host) + 16
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// hasToken reports whether one of the comma-separated lists in values holds
// token, compared case-insensitively (RFC 9110, section 5.6.1).
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// acceptGUID is the GUID of RFC 6455, section 1.3.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// AcceptKey returns the Sec-WebSocket-Accept value for key.
func AcceptKey(key string) string {
	h := sha1.New()
	h.Write([]byte(key))
	h.Write([]byte(acceptGUID))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// AppendResponse appends the server's 101 answer to key, with the
// Sec-WebSocket-Extensions value extensions when not empty, and returns the
// extended slice.
func AppendResponse(dst []byte, key, extensions string) []byte {
	dst = append(dst, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	dst = append(dst, AcceptKey(key)...)
	if extensions != "" {
		dst = append(dst, "\r\nSec-WebSocket-Extensions: "...)
		dst = append(dst, extensions...)
	}
	return append(dst, "\r\n\r\n"...)
}
