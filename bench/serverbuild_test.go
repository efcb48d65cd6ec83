package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindServerModule(t *testing.T) {
	root := t.TempDir()
	sub := filepath.Join(root, "bench", "x")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(path, text string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "go.mod"), "// the server\nmodule wsfan\n\ngo 1.26\n")
	write(filepath.Join(root, "bench", "go.mod"), "module wsfan/bench\n")
	// From the root, from bench/ (wsfan/bench is not the server) and below.
	for _, start := range []string{root, filepath.Join(root, "bench"), sub} {
		got, err := findServerModule(start)
		if err != nil {
			t.Errorf("findServerModule(%q): %v", start, err)
		}
		eq(t, got, root, "findServerModule(%q)", start)
	}
	if _, err := findServerModule(t.TempDir()); err == nil || !strings.Contains(err.Error(), "-server-src") {
		t.Fatalf("findServerModule outside any wsfan tree: %v", err)
	}
	for gomod, want := range map[string]string{
		"module wsfan\n":           "wsfan",
		"module \"wsfan/bench\"\n": "wsfan/bench",
		"modulex wsfan\n":          "",
		"go 1.26\n":                "",
	} {
		eq(t, modulePath([]byte(gomod)), want, "modulePath(%q)", gomod)
	}
}
