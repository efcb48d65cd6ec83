// Package proctest builds the wsfan binary and runs it as a separate
// process on loopback, for tests of what only a real process shows
// (signals, exit codes, the log, its memory). Its functions are for tests
// only; a Proc is used by the goroutine of the test that started it.
package proctest
