package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat.
// It is 100 on every Linux architecture Go supports (sysconf needs cgo).
const clockTicks = 100

// procSample is one reading of a process's /proc files.
type procSample struct {
	CPUSeconds float64 // utime + stime, in 10 ms ticks
	CPUClock   float64 // the process's CPU clock (cpuClock), ns resolution; -1 unknown
	RSSKB      int64   // VmRSS
	WriteCalls int64   // syscw of /proc/<pid>/io: write(2)-family calls; -1 if unreadable
}

// readProc reads /proc/<pid>/{stat,status,io} and the process's CPU
// clock.
func readProc(pid int) (procSample, error) {
	var s procSample
	dir := "/proc/" + strconv.Itoa(pid) + "/"
	b, err := os.ReadFile(dir + "stat")
	if err != nil {
		return s, fmt.Errorf("cannot read stat of pid %d: %w", pid, err)
	}
	ticks, err := parseStatTicks(b)
	if err != nil {
		return s, fmt.Errorf("pid %d: %w", pid, err)
	}
	s.CPUSeconds = float64(ticks) / clockTicks
	s.CPUClock = cpuClock(pid)
	if b, err = os.ReadFile(dir + "status"); err == nil {
		s.RSSKB = parseStatusKB(b, "VmRSS:")
	}
	s.WriteCalls = -1
	if b, err = os.ReadFile(dir + "io"); err == nil {
		s.WriteCalls = parseIOField(b, "syscw:")
	}
	return s, nil
}

// parseStatTicks returns utime+stime from /proc/<pid>/stat. The command
// name (field 2) is in parentheses and may hold spaces, so fields are
// counted after the last ')'.
func parseStatTicks(b []byte) (int64, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed stat %q", b)
	}
	f := bytes.Fields(b[i+1:])
	// After ')': state(3) ppid(4) ... utime(14) stime(15), so f[11], f[12].
	if len(f) < 13 {
		return 0, fmt.Errorf("malformed stat: %d fields after comm", len(f))
	}
	ut, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	st, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("malformed stat utime %q stime %q", f[11], f[12])
	}
	return ut + st, nil
}

// parseStatusKB returns the kB value of key ("VmRSS:") in
// /proc/<pid>/status, or -1.
func parseStatusKB(b []byte, key string) int64 {
	for line := range bytes.Lines(b) {
		if rest, ok := bytes.CutPrefix(line, []byte(key)); ok {
			f := bytes.Fields(rest)
			if len(f) > 0 {
				if v, err := strconv.ParseInt(string(f[0]), 10, 64); err == nil {
					return v
				}
			}
		}
	}
	return -1
}

// parseIOField returns key's value ("syscw:") in /proc/<pid>/io, or -1.
func parseIOField(b []byte, key string) int64 { return parseStatusKB(b, key) }

// cpuMeter turns successive samples of several processes into cores used.
type cpuMeter struct {
	pids []int
	last float64
}

// total returns the summed CPU seconds of the meter's processes; a process
// that is gone counts 0 from then on.
func (m *cpuMeter) total() float64 {
	sum := 0.0
	for _, pid := range m.pids {
		if s, err := readProc(pid); err == nil {
			sum += s.CPUSeconds
		}
	}
	return sum
}

// cpuTimes is one CPU's line of /proc/stat, in seconds. IRQ is the time
// in hard and soft interrupt context (loopback packets are mostly
// processed there); the kernel charges it to no process.
type cpuTimes struct {
	Busy, IRQ, Total float64
}

// readCPUs reads the per-CPU lines of /proc/stat (cpu0, cpu1, ...).
func readCPUs() ([]cpuTimes, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return nil, fmt.Errorf("cannot read /proc/stat: %w", err)
	}
	return parseCPUs(b), nil
}

// parseCPUs parses /proc/stat's cpuN lines: busy is user + nice + system
// + irq + softirq + steal, total adds idle and iowait.
func parseCPUs(b []byte) []cpuTimes {
	var out []cpuTimes
	for line := range bytes.Lines(b) {
		f := bytes.Fields(line)
		if len(f) < 9 || !bytes.HasPrefix(f[0], []byte("cpu")) || len(f[0]) == 3 {
			continue // the aggregate "cpu" line, or not a cpu line
		}
		var v [8]float64
		for i := range v {
			n, err := strconv.ParseInt(string(f[i+1]), 10, 64)
			if err != nil {
				return out
			}
			v[i] = float64(n) / clockTicks
		}
		// user nice system idle iowait irq softirq steal
		busy := v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
		out = append(out, cpuTimes{Busy: busy, IRQ: v[5] + v[6], Total: busy + v[3] + v[4]})
	}
	return out
}

// kernelThreads returns the pids of the kernel threads whose name starts
// with prefix ("ksoftirqd/"): loopback traffic is partly processed there,
// charged to neither the server nor the load.
func kernelThreads(prefix string) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/comm")
		if err == nil && bytes.HasPrefix(b, []byte(prefix)) {
			pids = append(pids, pid)
		}
	}
	return pids
}
