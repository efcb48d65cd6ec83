package main

import (
	"os"
	"testing"

	"wsfan/bench/rawserver"
)

// TestMain lets the test binary be the raw reference server, as the bench
// binary is: -spawn -target raw runs os.Executable() -raw-server.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == rawServerFlag {
		os.Exit(rawserver.Main(os.Args[2:], os.Stderr))
	}
	code := m.Run()
	if serverDir != "" {
		os.RemoveAll(serverDir)
	}
	os.Exit(code)
}
