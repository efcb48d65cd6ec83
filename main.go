// Command wsfan is a WebSocket fan-out server for real-time market data.
//
// Usage:
//
//	wsfan [-config config.toml] [-check-config] [-version]
//
// main wires the configuration, the server and the signals together; the
// logic lives in the packages.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"wsfan/config"
	"wsfan/loop"
	"wsfan/sysd"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run())
}

// notify sends a systemd state; outside systemd it does nothing.
func notify(log *slog.Logger, state func() (bool, error)) {
	if _, err := state(); err != nil {
		log.Warn("sd_notify failed", "err", err)
	}
}

func run() int {
	path := flag.String("config", "config.toml", "path of the TOML configuration file")
	check := flag.Bool("check-config", false, "validate the configuration, print the effective values and exit")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()

	if *showVersion {
		fmt.Printf("wsfan %s %s\n", version, runtime.Version())
		return 0
	}
	cfg, err := config.Load(*path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "wsfan: invalid configuration: %v\n", err)
		return 2
	}
	if *check {
		fmt.Printf("# %s is valid; effective configuration:\n%s", *path, cfg.Redacted().TOML())
		return 0
	}
	log := cfg.Logger(os.Stderr)
	slog.SetDefault(log)
	runtime.GOMAXPROCS(cfg.Procs())
	log.Info("starting", "version", version, "config", *path, "gomaxprocs", runtime.GOMAXPROCS(0),
		"effective", cfg.Redacted())
	if len(cfg.PublishKeys) == 0 {
		log.Warn("publish_keys is empty: every POST /publish will be answered 401")
	}
	// Signals are registered before READY: a reload right after start must
	// not kill the process (Go's default for SIGHUP).
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)

	// nbio sizes its tables from the hard limit; raise the soft one to it.
	soft, hard, err := sysd.RaiseNoFileLimit()
	if err != nil {
		log.Warn("cannot raise the open-file limit", "err", err)
	}
	log.Info("open-file limit", "soft", soft, "hard", hard)
	if hard < uint64(cfg.MaxConnections)+64 {
		log.Warn("the open-file limit is below max_connections: accepts fail with EMFILE first",
			"hard", hard, "max_connections", cfg.MaxConnections)
	}

	srv, err := loop.New(cfg, log)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	if err := srv.Start(); err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	notify(log, sysd.Ready)

	var got os.Signal
	for got = range sig {
		if got != syscall.SIGHUP {
			break
		}
		notify(log, sysd.Reloading)
		if err := srv.ReloadFile(*path); err != nil { // logged and counted
			_, _ = sysd.Status("reload failed: " + err.Error())
		} else {
			_, _ = sysd.Status("configuration reloaded")
		}
		notify(log, sysd.Ready)
	}
	notify(log, sysd.Stopping)
	log.Info("signal received, draining", "signal", got.String())
	signal.Reset(syscall.SIGTERM, syscall.SIGINT) // a second signal kills at once

	ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Error("shutdown incomplete", "err", err)
		return 1
	}
	return 0
}
