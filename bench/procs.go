package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
)

// command is what the coordinator asks of a load process. Long operations
// (grow, churn, close) answer with an event snapshot when done; snap and
// finish answer at once.
type command struct {
	Op       string            `json:"op"`                 // snap, grow, churn, drop, redial, finish, close, exit
	Target   int               `json:"target,omitempty"`   // grow: the global connection target
	Count    int               `json:"count,omitempty"`    // churn: this process's reconnects
	Rate     float64           `json:"rate,omitempty"`     // churn: this process's reconnects per second
	Accepted map[string]uint64 `json:"accepted,omitempty"` // finish: publications accepted per channel
	// ObserversOnly: finish accounts loss on the observers only (storm).
	ObserversOnly bool `json:"observers_only,omitempty"`
	// Last: finish checks that every subscriber's last message carries
	// its channel's last published value (data.n), when not nil.
	Last map[string]int64 `json:"last,omitempty"`
}

// Events of a snapshot.
const (
	evSnap    = "snap"
	evGrown   = "grown"
	evChurned = "churned"
	evDropped = "dropped"
	evRedial  = "redialed"
	evFinal   = "final"
	evClosed  = "closed"
	evError   = "error"
)

// snapshot is a load process's report. Counters are cumulative; Lat and
// Conn are interval histograms (since the previous snapshot), encoded.
type snapshot struct {
	Worker int    `json:"worker"`
	Event  string `json:"event"`
	Err    string `json:"err,omitempty"`

	Target      int64            `json:"target"`
	Dialed      int64            `json:"dialed"`
	Connected   int64            `json:"connected"`
	Failed      int64            `json:"failed"`
	Acked       int64            `json:"acked"`
	Rejected    int64            `json:"rejected"`
	Open        int64            `json:"open"`
	FailReasons map[string]int64 `json:"fail_reasons,omitempty"`
	FailLog     []string         `json:"fail_log,omitempty"`
	Closes      map[string]int64 `json:"closes,omitempty"`
	CloseLog    []string         `json:"close_log,omitempty"`

	Received    int64 `json:"received"`
	Gaps        int64 `json:"gaps"`
	Dups        int64 `json:"dups"`
	NoTS        int64 `json:"no_ts"`
	UnknownChan int64 `json:"unknown_chan"`
	Reads       int64 `json:"reads"`
	BytesIn     int64 `json:"bytes_in"`
	ErrorFrames int64 `json:"error_frames"`
	OtherFrames int64 `json:"other_frames"`

	Lat  []byte `json:"lat,omitempty"`
	Conn []byte `json:"conn,omitempty"`
	Obs  []byte `json:"obs,omitempty"` // latency on observers only

	ObsReceived  int64 `json:"obs_received"`
	Dropped      int64 `json:"dropped"`
	RedialDone   int64 `json:"redial_done"`
	RedialFailed int64 `json:"redial_failed"`

	ChurnDone   int64 `json:"churn_done"`
	ChurnFailed int64 `json:"churn_failed"`

	Loss *lossTotals `json:"loss,omitempty"`
}

// serve runs commands until exit (or cmds closes), sending snapshots to
// out. Long operations run in their own goroutine; one of each at a time
// is the coordinator's job.
func (w *worker) serve(cmds <-chan command, out chan<- snapshot) {
	var bg sync.WaitGroup
	for cmd := range cmds {
		switch cmd.Op {
		case "snap":
			w.emit(out, evSnap, nil)
		case "grow":
			bg.Go(func() { w.grow(cmd.Target); w.emit(out, evGrown, nil) })
		case "churn":
			bg.Go(func() { w.churn(cmd.Count, cmd.Rate); w.emit(out, evChurned, nil) })
		case "drop":
			bg.Go(func() { w.drop(); w.emit(out, evDropped, nil) })
		case "redial":
			bg.Go(func() { w.redial(); w.emit(out, evRedial, nil) })
		case "finish":
			w.emit(out, evFinal, &cmd)
		case "close":
			bg.Go(func() { w.closeAll(); w.emit(out, evClosed, nil) })
		case "exit":
			bg.Wait()
			w.engine.Stop()
			return
		default:
			out <- snapshot{Worker: w.id, Event: evError, Err: fmt.Sprintf("unknown command %q", cmd.Op)}
		}
	}
	bg.Wait()
	w.engine.Stop()
}

// workerHandle is the coordinator's end of a load process, in this process
// or a child.
type workerHandle struct {
	id   int
	pid  int // the child's pid; 0 for an in-process worker
	cmds chan command
	wait func() error
}

// Environment of a child load process.
const (
	envWorker  = "WSFAN_BENCH_WORKER"  // "id/procs"
	envOptions = "WSFAN_BENCH_OPTIONS" // the options, JSON
)

// startWorkers starts o.Procs load processes: in this process when there
// is one, else as children of this executable. Every snapshot goes to out.
func startWorkers(o *options, out chan<- snapshot) ([]*workerHandle, error) {
	if o.Procs == 1 {
		w, err := newWorker(o, 0, 1)
		if err != nil {
			return nil, err
		}
		h := &workerHandle{id: 0, cmds: make(chan command, 16)}
		done := make(chan struct{})
		go func() { w.serve(h.cmds, out); close(done) }()
		h.wait = func() error { <-done; return nil }
		return []*workerHandle{h}, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("cannot find this executable for -procs: %w", err)
	}
	oj, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	var hs []*workerHandle
	for id := range o.Procs {
		h, err := startChild(exe, oj, id, o.Procs, out)
		if err != nil {
			for _, h := range hs {
				close(h.cmds)
			}
			return nil, err
		}
		hs = append(hs, h)
	}
	return hs, nil
}

func startChild(exe string, opts []byte, id, procs int, out chan<- snapshot) (*workerHandle, error) {
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), envWorker+"="+strconv.Itoa(id)+"/"+strconv.Itoa(procs), envOptions+"="+string(opts))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("cannot start load process %d: %w", id, err)
	}
	h := &workerHandle{id: id, pid: cmd.Process.Pid, cmds: make(chan command, 16)}
	go func() {
		enc := json.NewEncoder(stdin)
		for c := range h.cmds {
			if enc.Encode(c) != nil {
				break
			}
		}
		_ = stdin.Close()
	}()
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		dec := json.NewDecoder(bufio.NewReaderSize(stdout, 1<<20))
		for {
			var s snapshot
			if err := dec.Decode(&s); err != nil {
				if err != io.EOF {
					out <- snapshot{Worker: id, Event: evError, Err: fmt.Sprintf("load process %d: %v", id, err)}
				}
				return
			}
			out <- s
		}
	}()
	h.wait = func() error { <-readDone; return cmd.Wait() }
	return h, nil
}

// runChild is the main of a child load process: commands on stdin,
// snapshots on stdout, one JSON value per line.
func runChild(spec string) int {
	var id, procs int
	if _, err := fmt.Sscanf(spec, "%d/%d", &id, &procs); err != nil || procs < 1 || id < 0 || id >= procs {
		fmt.Fprintf(os.Stderr, "bench: bad %s %q\n", envWorker, spec)
		return 2
	}
	var o options
	if err := json.Unmarshal([]byte(os.Getenv(envOptions)), &o); err != nil {
		fmt.Fprintf(os.Stderr, "bench: bad %s: %v\n", envOptions, err)
		return 2
	}
	w, err := newWorker(&o, id, procs)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: load process %d: %v\n", id, err)
		return 1
	}
	cmds := make(chan command, 16)
	out := make(chan snapshot, 16)
	go func() {
		dec := json.NewDecoder(os.Stdin)
		for {
			var c command
			if err := dec.Decode(&c); err != nil {
				close(cmds) // the coordinator is gone: stop
				return
			}
			cmds <- c
		}
	}()
	done := make(chan struct{})
	go func() {
		enc := json.NewEncoder(os.Stdout)
		for s := range out {
			_ = enc.Encode(s)
		}
		close(done)
	}()
	w.serve(cmds, out)
	close(out)
	<-done
	return 0
}
