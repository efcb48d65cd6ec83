package loop

import (
	"testing"
	"unsafe"
)

// TestClientSize pins the per-connection struct at a malloc size class:
// every byte of it is paid 100,000 times (docs/OPERATIONS.md, sizing).
func TestClientSize(t *testing.T) {
	if n := unsafe.Sizeof(client{}); n > 352 {
		t.Fatalf("client is %d bytes; keep it within the 352-byte size class", n)
	}
}
