// Package nettest holds what tests that start a server on the loopback
// network need. Its functions are for tests only and safe for concurrent
// use.
package nettest
