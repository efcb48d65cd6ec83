package auth

import "errors"

// Errors of Verify and Authenticate. The returned error wraps one of them
// (test with errors.Is) and, for a bad token, the jwt library's error too,
// which is fit for logs. A client is shown only PublicMessage(err).
var (
	// ErrMissingToken: auth is enabled, anonymous connections are not
	// allowed, and the request carries no token.
	ErrMissingToken = errors.New("auth: missing token")
	// ErrInvalidToken: the token is malformed, too long, badly signed,
	// signed with an algorithm or key that is not configured, not yet
	// valid, or fails the aud, iss or sub checks.
	ErrInvalidToken = errors.New("auth: invalid token")
	// ErrExpired: the token is well signed but its exp has passed (beyond
	// the leeway).
	ErrExpired = errors.New("auth: token expired")
)

// PublicMessage returns the short text to show a client for an error of
// Verify or Authenticate ("missing token", "invalid token", "token
// expired"). It never includes the wrapped detail.
func PublicMessage(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrMissingToken):
		return "missing token"
	case errors.Is(err, ErrExpired):
		return "token expired"
	default:
		return "invalid token"
	}
}
