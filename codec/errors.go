package codec

import "wsfan/lib/textcut"

// Error codes sent to clients in error frames and subscription_ack
// rejections (PROTOCOL.md, "Frames, server to client").
const (
	CodeBadRequest           = "BAD_REQUEST"            // not JSON, unknown type, missing field
	CodeInvalidChannel       = "INVALID_CHANNEL"        // channel name or pattern is malformed
	CodeForbidden            = "FORBIDDEN"              // the token does not allow the channel
	CodeTooManySubscriptions = "TOO_MANY_SUBSCRIPTIONS" // over the per-connection limit
	CodeRateLimited          = "RATE_LIMITED"           // the client sends too fast
)

// Error codes of the publish API (PROTOCOL.md, "Publish API"); it also uses
// CodeBadRequest and CodeInvalidChannel.
const (
	CodeUnauthorized = "UNAUTHORIZED" // missing or wrong publish key (HTTP 401)
	CodeTooLarge     = "TOO_LARGE"    // body over max_publish_bytes (HTTP 413)
	CodeUnavailable  = "UNAVAILABLE"  // draining, or the cluster bus is down (HTTP 503)
)

// Error is an error that reaches a client or publisher: a stable code (one of
// the Code constants) and a human message that is safe to show. It never
// wraps a Go error, so no internal detail leaks to the wire.
type Error struct {
	Code    string
	Message string
}

// Error returns "CODE: message".
func (e *Error) Error() string {
	return e.Code + ": " + e.Message
}

// badRequest returns a *Error with CodeBadRequest.
func badRequest(msg string) *Error {
	return &Error{Code: CodeBadRequest, Message: msg}
}

// maxQuoted is how many bytes of client-supplied text an error message
// quotes, so a hostile frame cannot make the reply large.
const maxQuoted = 64

// clip returns s cut to at most maxQuoted bytes on a rune boundary.
func clip(s string) string {
	return textcut.Clip(s, maxQuoted)
}
