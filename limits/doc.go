// Package limits holds the small defences of the public listener against
// clients that open too many connections, open them too fast, send commands
// too fast, or come from a page they should not:
//
//   - PerIP counts open connections per address group (IPv4 address or
//     IPv6 /64) against max_connections_per_ip;
//   - ConnRate limits new connections per second, globally and per group,
//     with bounded memory;
//   - CommandBucket, embedded in each connection, limits its commands and
//     tells a client that is rate limited from one that abuses the limit;
//   - OriginChecker checks the Origin header against allowed_origins.
//
// # Concurrency
//
// PerIP, ConnRate, CommandLimiter and OriginChecker are safe for concurrent
// use; each PerIP and ConnRate shard has its own mutex, a leaf lock that is
// never held while calling out of the package. CommandBucket's state is
// atomic, so it is safe for concurrent use too, but it belongs to one
// connection. Config is plain data.
//
// Nothing here is reconfigurable in place: on reload build new values.
// A connection must Release on the PerIP it Acquired from, so keep that
// pointer in the connection.
package limits
