// Package wstest builds the frames a WebSocket client sends and reads the
// frames a server sends, for tests that speak RFC 6455 by hand: what no
// WebSocket library would send, byte by byte. Its functions are safe for
// concurrent use.
package wstest
