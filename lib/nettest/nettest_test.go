package nettest

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestFreeAddr(t *testing.T) {
	a := FreeAddr(t)
	if !strings.HasPrefix(a, "127.0.0.1:") {
		t.Fatalf("FreeAddr = %q; want a loopback address", a)
	}
	ln, err := net.Listen("tcp", a)
	if err != nil {
		t.Fatalf("cannot listen on %s from FreeAddr: %v", a, err)
	}
	ln.Close()
}

func TestWaitOK(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/down":
			w.WriteHeader(http.StatusServiceUnavailable)
		case calls.Add(1) < 3: // up from the third request
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	if err := WaitOK(srv.URL+"/starting", 5*time.Second); err != nil || calls.Load() != 3 {
		t.Fatalf("WaitOK = %v after %d requests; want nil after the third", err, calls.Load())
	}
	if err := WaitOK(srv.URL+"/down", 50*time.Millisecond); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("WaitOK on a server that stays down = %v; want its 503", err)
	}
	if err := WaitOK("http://"+FreeAddr(t)+"/", 50*time.Millisecond); err == nil {
		t.Fatal("WaitOK on a closed port = nil")
	}
}
