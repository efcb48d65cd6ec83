//go:build !unix

package sysd

import "errors"

// RaiseNoFileLimit reports an error: RLIMIT_NOFILE exists only on Unix
// systems (see rlimit_unix.go for what it does there).
func RaiseNoFileLimit() (soft, hard uint64, err error) {
	return 0, 0, errors.New("sysd: RLIMIT_NOFILE is not supported on this platform")
}
