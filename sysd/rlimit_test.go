//go:build unix

package sysd

import (
	"syscall"
	"testing"
)

func TestRaiseNoFileLimit(t *testing.T) {
	var orig syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &orig); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &orig) })
	// The Go runtime starts every process at hard-1 already; lower the
	// soft limit further so that the raise is visible.
	if orig.Max > 64 {
		low := orig
		low.Cur = 64
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
			t.Fatalf("cannot lower the soft limit: %v", err)
		}
	}
	soft, hard, err := RaiseNoFileLimit()
	if err != nil {
		t.Fatal(err)
	}
	if hard != uint64(orig.Max) || soft != hard {
		t.Fatalf("RaiseNoFileLimit() = soft %d, hard %d; want both %d", soft, hard, orig.Max)
	}
	var now syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &now); err != nil {
		t.Fatal(err)
	}
	if uint64(now.Cur) != hard || uint64(now.Max) != hard {
		t.Fatalf("after RaiseNoFileLimit: soft %d, hard %d; want both %d", now.Cur, now.Max, hard)
	}
	// A second call finds nothing to do.
	if soft2, hard2, err := RaiseNoFileLimit(); err != nil || soft2 != soft || hard2 != hard {
		t.Fatalf("second call = %d, %d, %v; want %d, %d, nil", soft2, hard2, err, soft, hard)
	}
}
