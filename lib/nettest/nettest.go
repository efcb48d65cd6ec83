package nettest

import (
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"
)

// FreeAddr returns a loopback TCP address that was free a moment ago, for a
// server the test is about to start there.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// WaitOK polls url with GET until it answers 200 OK, as a server's health
// check does once the server is up, and returns nil then; or, once timeout
// has passed, the last failure.
func WaitOK(url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}
