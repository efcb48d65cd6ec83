// Package bytespool pools the byte buffers of the hot paths (outbound
// buffers, partial frames, replies), so that a steady stream of messages
// allocates nothing. Get and Put are safe for concurrent use.
package bytespool
