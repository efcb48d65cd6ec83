package main

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// key names one cell of the matrix.
type key struct {
	workload string // "Lookup", "Mixed/zipf", "Disconnect/tail", "Memory"
	strategy string
	cpu      int
}

// sample is one benchmark line's measurements; a missing unit is -1.
type sample struct {
	ns, cpuNs, ext, bytes, allocs, heap float64
}

// unmeasured is the sample with every unit missing.
var unmeasured = sample{ns: -1, cpuNs: -1, ext: -1, bytes: -1, allocs: -1, heap: -1}

// units returns the measurement of s that each unit of a result line sets.
func (s *sample) units() map[string]*float64 {
	return map[string]*float64{
		"ns/op": &s.ns, "cpu-ns/op": &s.cpuNs, "ext-%": &s.ext,
		"B/op": &s.bytes, "allocs/op": &s.allocs, "heap-B": &s.heap,
	}
}

// results holds every sample by cell, and the header lines seen.
type results struct {
	rows   map[key][]sample
	header []string // goos, goarch, pkg, cpu lines
}

// cpuSuffix matches the "-N" go test appends to a benchmark's name when it
// ran with GOMAXPROCS N > 1.
var cpuSuffix = regexp.MustCompile(`^(.*)-(\d+)$`)

// parse reads go test -bench output.
func parse(r io.Reader) (*results, error) {
	res := &results{rows: map[key][]sample{}}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		for _, h := range []string{"goos:", "goarch:", "cpu:"} {
			if strings.HasPrefix(text, h) && !slices.Contains(res.header, text) {
				res.header = append(res.header, text)
			}
		}
		if !strings.HasPrefix(text, "Benchmark") {
			continue
		}
		k, s, err := parseLine(text)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		res.rows[k] = append(res.rows[k], s)
	}
	return res, sc.Err()
}

// parseLine parses one result line:
//
//	BenchmarkMixed/zipf/striped16-2   1000   2734 ns/op   2754 cpu-ns/op   0.17 ext-%   2214 B/op   0 allocs/op
func parseLine(text string) (key, sample, error) {
	f := strings.Fields(text)
	if len(f) < 4 || len(f)%2 != 0 {
		return key{}, sample{}, fmt.Errorf("cannot parse %q: want a name, a count and value-unit pairs", text)
	}
	name, cpu := strings.TrimPrefix(f[0], "Benchmark"), 1
	if m := cpuSuffix.FindStringSubmatch(name); m != nil {
		name = m[1]
		cpu, _ = strconv.Atoi(m[2])
	}
	i := strings.LastIndexByte(name, '/')
	if i < 0 {
		return key{}, sample{}, fmt.Errorf("cannot parse %q: want Workload/strategy", f[0])
	}
	k := key{workload: name[:i], strategy: name[i+1:], cpu: cpu}
	s := unmeasured
	units := s.units()
	for j := 2; j < len(f); j += 2 {
		v, err := strconv.ParseFloat(f[j], 64)
		if err != nil {
			return key{}, sample{}, fmt.Errorf("cannot parse %q in %q: %w", f[j], text, err)
		}
		if m := units[f[j+1]]; m != nil {
			*m = v
		}
	}
	return k, s, nil
}

// best returns the sample of cell k with the lowest ns/op (the lowest heap-B
// for Memory), and how many samples the cell has.
func (r *results) best(k key) (sample, int) {
	ss := r.rows[k]
	if len(ss) == 0 {
		return unmeasured, 0
	}
	b := ss[0]
	for _, s := range ss[1:] {
		if (s.heap >= 0 && s.heap < b.heap) || (s.heap < 0 && s.ns >= 0 && s.ns < b.ns) {
			b = s
		}
	}
	return b, len(ss)
}

// strategies returns the strategies seen, in the order of preferred, then
// the others sorted.
func (r *results) strategies() []string {
	preferred := []string{"rwmap", "striped16", "perchannel", "syncmap", "actor", "striped16+count",
		"striped4", "striped8", "striped32", "striped64"}
	return r.seen(func(k key) string { return k.strategy }, preferred)
}

// workloads returns the workloads seen, in a fixed order, then the others
// sorted.
func (r *results) workloads() []string {
	order := []string{"Lookup", "Mixed/zipf", "Mixed/tail", "Disconnect/zipf", "Disconnect/tail", "Memory"}
	return r.seen(func(k key) string { return k.workload }, order)
}

// seen returns the values that field takes over the cells, each once: those
// in order first, in that order, then the others sorted.
func (r *results) seen(field func(key) string, order []string) []string {
	seen := map[string]bool{}
	for k := range r.rows {
		seen[field(k)] = true
	}
	var out []string
	for _, v := range order {
		if seen[v] {
			out = append(out, v)
			delete(seen, v)
		}
	}
	return append(out, slices.Sorted(maps.Keys(seen))...)
}

// cpus returns the core counts workload ran with, ascending.
func (r *results) cpus(workload string) []int {
	var out []int
	for k := range r.rows {
		if k.workload == workload && !slices.Contains(out, k.cpu) {
			out = append(out, k.cpu)
		}
	}
	slices.Sort(out)
	return out
}
