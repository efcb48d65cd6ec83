// Package auth decides who a WebSocket connection is and what it may
// subscribe to.
//
// A Verifier checks the connection's JWT (HS256, RS256, ES256 or EdDSA,
// only the algorithms of the configured keys) and returns an Identity.
// Rules, compiled from the [[auth.rules]] of the config, answer whether an
// Identity may subscribe to a channel or pattern: first match wins, a
// channel no rule matches is denied, and a wildcard subscription must stay
// entirely inside the rule that decides it.
//
// # Concurrency
//
// NewVerifier and CompileRules build immutable values: Verify, Authenticate
// and Allow may be called from any goroutine. To reload, build new values
// and swap the pointers (an atomic.Pointer); connections keep the Identity
// they were admitted with. Config is plain data. TokenFromRequest and
// PublicMessage are pure functions.
//
// # Errors
//
// Verify and Authenticate return errors wrapping ErrMissingToken,
// ErrInvalidToken or ErrExpired and, for logs, the jwt library's detail. A
// client is shown PublicMessage(err) only. Allow's messages are constant
// strings written for clients.
package auth
