// Command wsfan is a WebSocket fan-out server for real-time market data.
//
// Usage:
//
//	wsfan [-config config.toml] [-check-config] [-version]
//
// Without -config and without a config.toml in the working directory it
// runs on the built-in defaults (-config "" asks for them explicitly).
//
// main wires the configuration, the server and the signals together; the
// logic lives in the packages. Its goroutine waits for signals: SIGHUP
// reloads the file, SIGTERM or SIGINT drains and exits (a second one kills).
package main
