package sysd

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
)

// NotifySocketEnv is the environment variable in which systemd passes the
// notify socket to a Type=notify service: an absolute path, or an abstract
// socket name starting with '@'.
const NotifySocketEnv = "NOTIFY_SOCKET"

// States sent by Ready, Stopping and Reloading (sd_notify(3)).
const (
	// StateReady tells systemd that start-up (or a reload) finished: a
	// Type=notify unit counts as started only once it arrives.
	StateReady = "READY=1"
	// StateStopping tells systemd that the service began its shutdown.
	StateStopping = "STOPPING=1"
	// StateReloading tells systemd that the service began reloading its
	// configuration; it must send StateReady when done.
	StateReloading = "RELOADING=1"
)

// ErrUnsupportedSocket is returned by Notify when $NOTIFY_SOCKET is neither an
// absolute path nor an abstract name (systemd ≥ 254 may also pass vsock:
// addresses, which only matter inside virtual machines it starts).
var ErrUnsupportedSocket = errors.New("sysd: unsupported NOTIFY_SOCKET address")

// Notify sends state, one or more newline-separated KEY=VALUE assignments
// (sd_notify(3)), as one datagram to the socket named by $NOTIFY_SOCKET.
//
// It returns false and a nil error when $NOTIFY_SOCKET is unset or empty:
// the process does not run under systemd (or runs under a unit whose type
// is not notify), and nothing needs to be done. It returns true once the
// datagram was sent. It does not unset $NOTIFY_SOCKET, so it may be called
// any number of times.
func Notify(state string) (bool, error) {
	name := os.Getenv(NotifySocketEnv)
	if name == "" {
		return false, nil
	}
	// An '@' prefix names an abstract socket; package net (syscall on
	// Linux) turns it into the leading NUL byte of the kernel's address.
	if name[0] != '/' && name[0] != '@' {
		return false, fmt.Errorf("%w: %q", ErrUnsupportedSocket, name)
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		return false, fmt.Errorf("cannot connect to %s %q: %w", NotifySocketEnv, name, err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return false, fmt.Errorf("cannot send %q to %s %q: %w", state, NotifySocketEnv, name, err)
	}
	return true, nil
}

// Ready sends READY=1. Call it once both listeners accept connections, and
// again when a reload finished (after Reloading).
func Ready() (bool, error) { return Notify(StateReady) }

// Stopping sends STOPPING=1. Call it when the drain begins (SIGTERM), before
// the 1001 closes go out: systemd then shows the unit as deactivating.
func Stopping() (bool, error) { return Notify(StateStopping) }

// Reloading sends RELOADING=1 together with MONOTONIC_USEC, the current
// CLOCK_MONOTONIC time in microseconds, on platforms where it can be read.
// Call it when SIGHUP arrives, before rereading the configuration, and call
// Ready when the reload is done, whether it succeeded or not (the old
// configuration stays in force on failure; report that with Status).
//
// systemd ≥ 253 requires MONOTONIC_USEC with RELOADING=1 for units of
// Type=notify-reload, where it sends SIGHUP itself and waits for READY=1.
// wsfan's unit is Type=notify with ExecReload=/bin/kill -HUP $MAINPID (it
// must also run on systemd 252, Debian 12, which lacks notify-reload): there
// the field is optional and harmless, and RELOADING=1 ... READY=1 lets
// systemctl show the reload while it happens.
func Reloading() (bool, error) {
	state := StateReloading
	if usec, ok := monotonicMicros(); ok {
		state += "\nMONOTONIC_USEC=" + strconv.FormatUint(usec, 10)
	}
	return Notify(state)
}

// Status sends STATUS=text, the one-line status `systemctl status` shows
// (for example "reload failed: publish_keys: key 0 is 8 bytes"). Newlines in
// text are replaced by spaces, since a newline would start a new assignment.
func Status(text string) (bool, error) {
	b := []byte("STATUS=" + text)
	for i, c := range b {
		if c == '\n' {
			b[i] = ' '
		}
	}
	return Notify(string(b))
}
