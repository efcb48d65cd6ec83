// Package sysd holds wsfan's small pieces of systemd integration: the
// sd_notify protocol (Notify, Ready, Reloading, Stopping, Status) and
// RaiseNoFileLimit for the open-file limit a 100K-connection server needs.
//
// It speaks the notify protocol itself (one datagram on the unix socket
// named by $NOTIFY_SOCKET) rather than importing go-systemd: the protocol
// is a few lines, and outside systemd every call is a no-op.
//
// # Concurrency
//
// Every function may be called from any goroutine. Each Notify call opens,
// writes and closes its own socket, so calls never share state; systemd
// applies datagrams in the order it receives them, so a caller that needs
// RELOADING=1 to precede READY=1 must make the calls from one goroutine (or
// otherwise order them).
//
// # Deployment files
//
// The unit, sysctl and sysusers files live in deploy/; the tests in this
// package check them (systemd-analyze verify, sysctl key names) and
// sizing_test.go holds the measurement behind docs/OPERATIONS.md's sizing
// table.
package sysd
