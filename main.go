package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"

	"wsfan/config"
	"wsfan/server"
	"wsfan/sysd"
)

// version is set at build time with -ldflags "-X main.version=..."; a
// plain go build takes it from the build info (see versionString).
var version string

func main() {
	os.Exit(run())
}

// notify sends a systemd state; outside systemd it does nothing.
func notify(log *slog.Logger, state func() (bool, error)) {
	if _, err := state(); err != nil {
		log.Warn("sd_notify failed", "err", err)
	}
}

// builtIn names the configuration's source when no file is read.
const builtIn = "built-in defaults"

// loadConfig reads the configuration file at path. Without a file (path
// "", or the default config.toml absent and -config not given) it is the
// built-in defaults, with the environment's overrides. source names what
// was read.
func loadConfig(path string, explicit bool) (cfg *config.Config, source string, err error) {
	if path == "" {
		cfg, err = config.Parse(nil)
		return cfg, builtIn, err
	}
	cfg, err = config.Load(path)
	switch {
	case err == nil:
		return cfg, path, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, path, err
	case explicit:
		return nil, path, fmt.Errorf(`%w (pass -config "" to run on the built-in defaults)`, err)
	}
	cfg, err = config.Parse(nil)
	return cfg, builtIn + " (no " + path + " in the working directory)", err
}

func run() int {
	path := flag.String("config", "config.toml", `path of the TOML configuration file; "" for the built-in defaults`)
	check := flag.Bool("check-config", false, "validate the configuration, print the effective values and exit")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "config" })

	if *showVersion {
		fmt.Println(versionString())
		return 0
	}
	cfg, source, err := loadConfig(*path, explicit)
	if err != nil {
		fmt.Fprintf(os.Stderr, "wsfan: invalid configuration: %v\n", err)
		return 2
	}
	if *check {
		fmt.Printf("# %s: valid; effective configuration:\n%s", source, cfg.Redacted().TOML())
		return 0
	}
	log := cfg.Logger(os.Stderr)
	slog.SetDefault(log)
	runtime.GOMAXPROCS(cfg.Procs())
	log.Info("starting", "version", versionString(), "config", source, "gomaxprocs", runtime.GOMAXPROCS(0))
	logConfig(log, cfg)
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
	switch {
	case hard >= uint64(cfg.MaxConnections)+64:
		log.Info("open-file limit", "soft", soft, "hard", hard)
	case cfg.MaxConnections != config.DefaultMaxConnections:
		log.Warn("the open-file limit is below max_connections: accepts fail with EMFILE first",
			"hard", hard, "max_connections", cfg.MaxConnections)
	default: // the operator did not ask for max_connections: no warning
		log.Info("open-file limit; it caps connections below the default max_connections",
			"soft", soft, "hard", hard, "connections_at_most", hard-64)
	}

	srv, err := server.New(cfg, log)
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
		if source != *path {
			log.Warn("SIGHUP ignored: no configuration file to reload", "config", source)
			continue
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
		return 1 // Shutdown logged why
	}
	return 0
}

// logConfig logs the effective configuration as TOML, secrets redacted:
// one record holding it with log_format json; a record and the TOML text
// itself with text, for a person to read.
func logConfig(log *slog.Logger, cfg *config.Config) {
	text := cfg.Redacted().TOML()
	if cfg.LogFormat == "json" {
		log.Info("effective configuration", "toml", text)
		return
	}
	log.Info("effective configuration (TOML) follows")
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		b.WriteString("    ")
		b.WriteString(line)
		b.WriteByte('\n')
	}
	_, _ = os.Stderr.WriteString(b.String())
}
