package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// eq fails the test unless got equals want; format and args name the
// value, as a call: eq(t, cpuCount(in), 2, "cpuCount(%q)", in).
func eq[T comparable](t *testing.T, got, want T, format string, args ...any) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v; want %v", fmt.Sprintf(format, args...), got, want)
	}
}

// mustParse parses a command line (split at white space) as the load
// generator does; the test fails on an error.
func mustParse(t *testing.T, args string) *options {
	t.Helper()
	o, err := parseFlags(strings.Fields(args), io.Discard)
	if err != nil {
		t.Fatalf("parseFlags(%q): %v", args, err)
	}
	return o
}

// wantParseErrors checks that each command line fails parseFlags with
// an error containing the text it maps to.
func wantParseErrors(t *testing.T, cases map[string]string) {
	t.Helper()
	for _, args := range slices.Sorted(maps.Keys(cases)) {
		_, err := parseFlags(strings.Fields(args), io.Discard)
		if want := cases[args]; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseFlags(%q) error %v; want one containing %q", args, err, want)
		}
	}
}

// runFirst parses argv and runs the first run it makes (o.runs) within
// timeout; the test fails on an error.
func runFirst(t *testing.T, timeout time.Duration, argv ...string) *result {
	t.Helper()
	o, err := parseFlags(argv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	res, err := run(ctx, o.runs()[0], io.Discard)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return res
}
