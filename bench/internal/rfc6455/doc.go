// Package rfc6455 holds the pieces of the WebSocket protocol (RFC 6455)
// that both ends of the load benchmark need: the load generator's client
// (bench/dial.go, bench/wsframe.go) and the raw reference server
// (bench/rawserver). They check the same handshake, and the server's
// tests write the same masked client frames as the load generator.
//
// Concurrency: the functions keep no state and are safe for concurrent
// use.
package rfc6455
