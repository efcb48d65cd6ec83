//go:build unix

package sysd

import (
	"fmt"
	"syscall"
)

// RaiseNoFileLimit raises the soft RLIMIT_NOFILE (the limit accept() and
// socket() hit, EMFILE) to the hard limit, and returns both limits after the
// change so that the caller can log them. Every connection costs one file
// descriptor, so the hard limit bounds max_connections: under systemd it is
// the unit's LimitNOFILE= (1048576 in deploy/wsfan.service).
//
// The Go runtime already raises the soft limit to hard-1 when the process
// starts (go.dev/issue/46279); this makes it exact and explicit. nbio sizes
// its per-fd connection table from the hard limit in its package init, which
// no call can change: call RaiseNoFileLimit early in main, before the
// engine starts, and raise the hard limit in the unit, not in code.
//
// It may be called from any goroutine, though once at start-up is the
// intended use.
func RaiseNoFileLimit() (soft, hard uint64, err error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, 0, fmt.Errorf("cannot read RLIMIT_NOFILE: %w", err)
	}
	if lim.Cur < lim.Max {
		raised := lim
		raised.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err != nil {
			return uint64(lim.Cur), uint64(lim.Max),
				fmt.Errorf("cannot raise the soft RLIMIT_NOFILE from %d to %d: %w", lim.Cur, lim.Max, err)
		}
		lim = raised
	}
	return uint64(lim.Cur), uint64(lim.Max), nil
}
