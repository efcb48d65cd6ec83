// Package conn is one upgraded WebSocket connection: nbio's session of the
// socket, its frame reader, its outbound buffer, the writers that hand
// buffers to sockets, and the closing handshake.
//
// # Concurrency
//
// nbio's poller feeds read bytes to the Conn (Parse, under rmu); whole
// messages go to the Env's Handler on the connection's nbio executor, in
// order. Any goroutine may enqueue a frame: it is appended to the Conn's
// buffer under its lock and a writer goroutine (one of the Env's, by id)
// hands the buffer to the socket in one write. nbio's Write never blocks:
// what the kernel does not take is queued by nbio, and while it is, new
// bytes wait in the Conn's buffer (where a conflated channel's newer
// message replaces an older one, EnqueueLatest); the backlog counts both
// and closes a slow consumer (1008) at MaxPendingBytes.
//
// The socket is never closed from outside nbio's poller (see Conn): every
// close decided here is a shutdown(2), after which nbio closes it.
//
// Lock order (docs/LOCKS.md): Conn.wmu -> Conn.rmu -> Conn.mu ->
// writer.mu; Conn.wmu -> TLS output lock -> nbio.Conn's lock; nbio.Conn's
// lock -> Conn.mu (OnWritten). A caller may hold channel entry locks when
// it takes Conn.mu (Lock, Enqueue*), never the reverse.
package conn
