package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/lesismal/nbio/logging"

	"wsfan/bench/rawserver"
)

// envPinned marks a process that already runs under -load-cpus' taskset.
const envPinned = "WSFAN_BENCH_PINNED"

func init() {
	logging.SetLevel(logging.LevelError) // nbio's start and stop lines
}

func main() {
	os.Exit(realMain())
}

func realMain() int {
	if spec := os.Getenv(envWorker); spec != "" {
		return runChild(spec)
	}
	if len(os.Args) > 1 && os.Args[1] == rawServerFlag {
		return rawserver.Main(os.Args[2:], os.Stderr)
	}
	o, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		return 2
	}
	if o.ChartsFrom != "" {
		return renderCharts(o.ChartsFrom, o.Report)
	}
	if o.LoadCPUs != "" && os.Getenv(envPinned) != o.LoadCPUs {
		return repin(o)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.CPUProfile != "" {
		f, err := os.Create(o.CPUProfile)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(os.Stderr, "bench: %v\n", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	return runAll(ctx, o, os.Stdout, os.Stderr)
}

// runAll makes the invocation's runs (o.runs) one after the other, prints
// each result and, for two, their comparison, and writes the reports.
// It stops at the first run that fails.
func runAll(ctx context.Context, o *options, out, log io.Writer) int {
	var results []*result
	var runErr error
	for _, ro := range o.runs() {
		res, err := run(ctx, ro, log)
		if res != nil {
			results = append(results, res)
			if !o.JSON {
				printTable(out, res)
			}
			if o.Report != "" {
				if rerr := writeReport(o.Report, res); rerr != nil {
					fmt.Fprintf(log, "bench: %v\n", rerr)
					return 1
				}
			}
		}
		if err != nil {
			runErr = fmt.Errorf("%s: %w", ro.Label, err)
			break
		}
	}
	cmp := compareRuns(o, results)
	if o.JSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		switch {
		case len(results) == 1:
			_ = enc.Encode(results[0])
		case len(results) > 1:
			_ = enc.Encode(struct {
				Runs       []*result   `json:"runs"`
				Comparison *comparison `json:"comparison,omitempty"`
			}{results, cmp})
		}
	} else if cmp != nil {
		printComparison(out, cmp)
	}
	if runErr != nil {
		fmt.Fprintf(log, "bench: %v\n", runErr)
		return 1
	}
	return 0
}

// repin runs this program again under taskset -c o.LoadCPUs, so that the
// coordinator, the publisher and every load process (children inherit the
// affinity) stay on those CPUs; GOMAXPROCS follows the affinity. A server
// to spawn is built first, unpinned.
func repin(o *options) int {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		return 1
	}
	args := append([]string{"-c", o.LoadCPUs, exe}, os.Args[1:]...)
	if o.Spawn && o.ServerBin == "" && o.Target == targetWsfan {
		dir, err := os.MkdirTemp("", "wsfan-bench-build-")
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: %v\n", err)
			return 1
		}
		defer os.RemoveAll(dir)
		bin, err := buildServer(o.ServerSrc, dir)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: %v\n", err)
			return 1
		}
		args = append(args, "-server-bin", bin)
	}
	cmd := exec.Command("taskset", args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), envPinned+"="+o.LoadCPUs)
	// Forward SIGINT and SIGTERM: the child stops the server it spawned.
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "bench: cannot run under taskset: %v\n", err)
		return 1
	}
	go func() {
		for s := range sig {
			_ = cmd.Process.Signal(s)
		}
	}()
	if err := cmd.Wait(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		fmt.Fprintf(os.Stderr, "bench: cannot run under taskset: %v\n", err)
		return 1
	}
	return 0
}

// renderCharts writes the charts of the result saved in path into dir.
func renderCharts(path, dir string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		return 1
	}
	var r result
	if err := json.Unmarshal(b, &r); err != nil {
		fmt.Fprintf(os.Stderr, "bench: cannot parse %s: %v\n", path, err)
		return 1
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		return 1
	}
	if err := writeCharts(dir, &r); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		return 1
	}
	return 0
}
