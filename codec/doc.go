// Package codec is wsfan's wire format: it decodes client commands (text
// frames holding one JSON object) and publish-API bodies, and encodes server
// frames (JSON payloads and the RFC 6455 frame headers around them), as
// PROTOCOL.md describes.
//
// Encoders are append-style: they append to dst and return the extended
// slice, allocate nothing when dst has enough capacity, and never retain dst.
// AppendMessageFrame is the hot path: it runs once per publication and its
// bytes are written unchanged to every subscriber.
//
// Concurrency: every function in the package is safe for concurrent use; a
// *Command passed to Decode must not be used by another goroutine at the same
// time. Nothing returned by Decode or DecodePublish aliases its input, so the
// caller may reuse the input buffer (nbio recycles its read buffers) as soon
// as the call returns.
//
// Errors that may reach a client or publisher are *Error values carrying a
// stable code (CodeBadRequest, ...) and a message that is safe to show.
package codec
