package sysd

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// listenNotify creates a unixgram socket at name (a path, or '@' for an
// abstract name), as systemd does, and points $NOTIFY_SOCKET at it.
func listenNotify(t *testing.T, name string) *net.UnixConn {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatalf("cannot listen on %q: %v", name, err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv(NotifySocketEnv, name)
	return conn
}

// recv reads one datagram, failing the test after a second.
func recv(t *testing.T, conn *net.UnixConn) string {
	t.Helper()
	if err := conn.SetReadDeadline(time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("no datagram: %v", err)
	}
	return string(buf[:n])
}

func TestNotifyPath(t *testing.T) {
	conn := listenNotify(t, filepath.Join(t.TempDir(), "notify.sock"))
	f := func(send func() (bool, error), want string) {
		t.Helper()
		sent, err := send()
		if err != nil || !sent {
			t.Fatalf("sent=%v err=%v; want true, nil", sent, err)
		}
		if got := recv(t, conn); got != want {
			t.Fatalf("datagram %q; want %q", got, want)
		}
	}
	f(Ready, "READY=1")
	f(Stopping, "STOPPING=1")
	f(func() (bool, error) { return Notify("STATUS=draining\nERRNO=0") }, "STATUS=draining\nERRNO=0")
	f(func() (bool, error) { return Status("reload failed:\nbad key") }, "STATUS=reload failed: bad key")
}

func TestNotifyAbstract(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("abstract unix sockets exist only on Linux")
	}
	name := fmt.Sprintf("@wsfan-sysd-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	conn := listenNotify(t, name)
	if sent, err := Ready(); err != nil || !sent {
		t.Fatalf("Ready() = %v, %v; want true, nil", sent, err)
	}
	if got := recv(t, conn); got != "READY=1" {
		t.Fatalf("datagram %q; want READY=1", got)
	}
}

func TestNotifyReloading(t *testing.T) {
	conn := listenNotify(t, filepath.Join(t.TempDir(), "notify.sock"))
	var last uint64
	for range 2 {
		if sent, err := Reloading(); err != nil || !sent {
			t.Fatalf("Reloading() = %v, %v; want true, nil", sent, err)
		}
		got := recv(t, conn)
		if runtime.GOOS != "linux" {
			if got != "RELOADING=1" {
				t.Fatalf("datagram %q; want RELOADING=1", got)
			}
			continue
		}
		v, ok := strings.CutPrefix(got, "RELOADING=1\nMONOTONIC_USEC=")
		if !ok {
			t.Fatalf("datagram %q; want RELOADING=1 and MONOTONIC_USEC", got)
		}
		usec, err := strconv.ParseUint(v, 10, 64)
		if err != nil || usec == 0 || usec < last {
			t.Fatalf("MONOTONIC_USEC=%q after %d: want a growing positive integer", v, last)
		}
		last = usec
	}
}

func TestNotifyUnset(t *testing.T) {
	t.Setenv(NotifySocketEnv, "") // restored after the test
	if err := os.Unsetenv(NotifySocketEnv); err != nil {
		t.Fatal(err)
	}
	for _, send := range []func() (bool, error){Ready, Stopping, Reloading} {
		if sent, err := send(); sent || err != nil {
			t.Fatalf("unset %s: sent=%v err=%v; want false, nil", NotifySocketEnv, sent, err)
		}
	}
	t.Setenv(NotifySocketEnv, "")
	if sent, err := Ready(); sent || err != nil {
		t.Fatalf("empty %s: sent=%v err=%v; want false, nil", NotifySocketEnv, sent, err)
	}
}

func TestNotifyErrors(t *testing.T) {
	t.Setenv(NotifySocketEnv, "vsock:2:1234")
	if sent, err := Ready(); sent || !errors.Is(err, ErrUnsupportedSocket) {
		t.Fatalf("vsock address: sent=%v err=%v; want false, ErrUnsupportedSocket", sent, err)
	}
	t.Setenv(NotifySocketEnv, filepath.Join(t.TempDir(), "nobody-listens"))
	if sent, err := Ready(); sent || err == nil {
		t.Fatalf("missing socket: sent=%v err=%v; want false and an error", sent, err)
	}
}
