package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// serverModule is the module path of the server; the load generator is the
// separate module wsfan/bench inside its tree.
const serverModule = "wsfan"

// buildServer builds the server module in directory src (empty: found by
// findServerModule from the working directory) into dir and returns the
// binary. The build runs in src, so that it uses the server's go.mod, not
// the load generator's.
func buildServer(src, dir string) (string, error) {
	if src == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		if src, err = findServerModule(wd); err != nil {
			return "", err
		}
	}
	bin, err := filepath.Abs(filepath.Join(dir, "wsfan"))
	if err != nil {
		return "", err
	}
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = src
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("cannot build the server (go build in %s): %w", src, err)
	}
	return bin, nil
}

// findServerModule returns the nearest directory at or above start whose
// go.mod declares the server's module: the repository root, from the root
// itself or from bench/.
func findServerModule(start string) (string, error) {
	dir, err := filepath.Abs(start)
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && modulePath(b) == serverModule {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of module %s at or above %s: give -server-src or -server-bin", serverModule, start)
		}
		dir = parent
	}
}

// modulePath returns the module path a go.mod declares, "" if none.
func modulePath(gomod []byte) string {
	for line := range strings.Lines(string(gomod)) {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}
