package conn

import (
	"testing"
	"unsafe"
)

// TestConnSize pins the per-connection struct at a malloc size class:
// every byte of it is paid 100,000 times (docs/OPERATIONS.md, sizing).
func TestConnSize(t *testing.T) {
	if n := unsafe.Sizeof(Conn{}); n > 352 {
		t.Fatalf("Conn is %d bytes; keep it within the 352-byte size class", n)
	}
}
