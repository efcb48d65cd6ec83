// Package ws is wsfan's RFC 6455 layer: the frame format (headers, close
// frames, the prepared frames the fan-out writes as they are), a strict
// incremental frame Reader for what clients send (masking, fragmentation,
// control frames, UTF-8, size bounds, the close handshake), and the checks
// and answer of the opening handshake.
//
// Concurrency: the frame functions are pure and safe for concurrent use. A
// Reader belongs to one connection and is not safe for concurrent use: its
// owner feeds it under its own lock (conn.Conn does, under rmu) and the
// Handler runs synchronously inside Feed.
package ws
