package main

import (
	"fmt"
	"strings"
)

// production is the strategy the comparison is about.
const production = "striped16"

// disturbed is the ext-% above which a cell is marked: other processes took
// that much of the machine during its best run.
const disturbed = 10

// column is one column of the main matrix: a workload at a core count.
type column struct {
	workload string
	cpu      int
	title    string
}

// print writes every table.
func (r *results) print(w writer) {
	if len(r.header) > 0 {
		fmt.Fprintf(w, "%s\n\n", strings.Join(r.header, ", "))
	}
	cols := r.columns()
	r.printMatrix(w, cols)
	r.printScaling(w)
	r.printAllocs(w, cols)
}

// columns returns the matrix columns: every workload at every core count it
// ran with.
func (r *results) columns() []column {
	var cols []column
	for _, wl := range r.workloads() {
		cpus := r.cpus(wl)
		if !parallel(wl) {
			cpus = cpus[:1] // serial: the core count does not matter
		}
		for _, cpu := range cpus {
			title := strings.ToLower(wl)
			switch {
			case wl == "Memory":
				title = "memory MiB"
			case parallel(wl):
				title = fmt.Sprintf("%s %dc", title, cpu)
			}
			cols = append(cols, column{wl, cpu, title})
		}
	}
	return cols
}

// parallel reports whether workload runs on every core (b.RunParallel).
func parallel(workload string) bool {
	return workload == "Lookup" || strings.HasPrefix(workload, "Mixed")
}

// value returns the cell's number: ns/op, or MiB for Memory; -1 if absent.
func (r *results) value(c column, strategy string) (float64, sample, int) {
	s, n := r.best(key{c.workload, strategy, c.cpu})
	if n == 0 {
		return -1, s, 0
	}
	if c.workload == "Memory" {
		return s.heap / (1 << 20), s, n
	}
	return s.ns, s, n
}

func (r *results) printMatrix(w writer, cols []column) {
	runs := 0
	for _, ss := range r.rows {
		runs = max(runs, len(ss))
	}
	fmt.Fprintf(w, "ns/op, best of up to %d runs; memory in MiB of heap. **bold**: the fastest (smallest) of the column; "+
		"†: other processes used more than %d%% of the machine during that run.\n\n", runs, disturbed)
	titles := []string{"strategy"}
	for _, c := range cols {
		titles = append(titles, c.title)
	}
	table := [][]string{titles}
	fastest := make([]float64, len(cols))
	for i, c := range cols {
		fastest[i] = -1
		for _, st := range r.strategies() {
			if v, _, n := r.value(c, st); n > 0 && (fastest[i] < 0 || v < fastest[i]) {
				fastest[i] = v
			}
		}
	}
	for _, st := range r.strategies() {
		row := []string{st}
		for i, c := range cols {
			v, s, n := r.value(c, st)
			cell := "–"
			if n > 0 {
				cell = number(v)
				if v == fastest[i] {
					cell = "**" + cell + "**"
				}
				if s.ext > disturbed {
					cell += " †"
				}
			}
			row = append(row, cell)
		}
		table = append(table, row)
	}
	row := []string{production + " vs fastest"}
	for i, c := range cols {
		v, _, n := r.value(c, production)
		if n == 0 || fastest[i] <= 0 {
			row = append(row, "–")
			continue
		}
		row = append(row, fmt.Sprintf("%+.0f%%", 100*(v/fastest[i]-1)))
	}
	table = append(table, row)
	markdown(w, table)
}

// printScaling writes, per parallel workload, the throughput ratio from 1
// core to each other core count (ns/op at 1 / ns/op at N) and the CPU time
// per operation, which shows contention even where the machine's other
// users kept a core busy.
func (r *results) printScaling(w writer) {
	for _, wl := range r.workloads() {
		cpus := r.cpus(wl)
		if !parallel(wl) || len(cpus) < 2 || cpus[0] != 1 {
			continue
		}
		fmt.Fprintf(w, "\n%s: throughput from 1 core (ns/op at 1 ÷ ns/op at N; 2.0 is perfect for 2 cores), "+
			"and CPU time per op (flat when cores do not contend), ext-%% of the best run.\n\n", wl)
		titles := []string{"strategy"}
		for _, c := range cpus[1:] {
			titles = append(titles, fmt.Sprintf("1→%d", c))
		}
		for _, c := range cpus {
			titles = append(titles, fmt.Sprintf("cpu-ns %dc", c))
		}
		for _, c := range cpus {
			titles = append(titles, fmt.Sprintf("ext-%% %dc", c))
		}
		table := [][]string{titles}
		for _, st := range r.strategies() {
			base, n := r.best(key{wl, st, 1})
			if n == 0 {
				continue
			}
			row := []string{st}
			for _, c := range cpus[1:] {
				s, n := r.best(key{wl, st, c})
				row = append(row, ratio(base.ns, s.ns, n))
			}
			for _, c := range cpus {
				s, n := r.best(key{wl, st, c})
				row = append(row, opt(s.cpuNs, n))
			}
			for _, c := range cpus {
				s, n := r.best(key{wl, st, c})
				row = append(row, opt(s.ext, n))
			}
			table = append(table, row)
		}
		markdown(w, table)
	}
}

// printAllocs writes allocs/op and B/op per workload at its first core count.
func (r *results) printAllocs(w writer, cols []column) {
	fmt.Fprintf(w, "\nallocs/op (B/op) of the best run, at the lowest core count.\n\n")
	titles := []string{"strategy"}
	var picked []column
	for _, c := range cols {
		if c.workload == "Memory" || (len(picked) > 0 && picked[len(picked)-1].workload == c.workload) {
			continue
		}
		picked = append(picked, c)
		titles = append(titles, strings.ToLower(c.workload))
	}
	table := [][]string{titles}
	for _, st := range r.strategies() {
		row := []string{st}
		for _, c := range picked {
			s, n := r.best(key{c.workload, st, c.cpu})
			if n == 0 || s.allocs < 0 {
				row = append(row, "–")
				continue
			}
			row = append(row, fmt.Sprintf("%s (%s)", number(s.allocs), number(s.bytes)))
		}
		table = append(table, row)
	}
	markdown(w, table)
}

func ratio(base, v float64, n int) string {
	if n == 0 || base <= 0 || v <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", base/v)
}

func opt(v float64, n int) string {
	if n == 0 || v < 0 {
		return "–"
	}
	return number(v)
}

// number formats v with three significant digits, or as an integer from
// 1000 up.
func number(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%.0f", v)
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// markdown writes rows as a Markdown table, columns padded to line up.
func markdown(w writer, rows [][]string) {
	widths := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, cell := range row {
			widths[i] = max(widths[i], len([]rune(cell)))
		}
	}
	line := func(row []string) {
		var b strings.Builder
		b.WriteString("|")
		for i, cell := range row {
			pad := widths[i] - len([]rune(cell))
			if i == 0 {
				fmt.Fprintf(&b, " %s%s |", cell, strings.Repeat(" ", pad))
			} else {
				fmt.Fprintf(&b, " %s%s |", strings.Repeat(" ", pad), cell)
			}
		}
		fmt.Fprintln(w, b.String())
	}
	line(rows[0])
	sep := make([]string, len(widths))
	for i, n := range widths {
		if i == 0 {
			sep[i] = strings.Repeat("-", n+2)
		} else {
			sep[i] = strings.Repeat("-", n+1) + ":"
		}
	}
	fmt.Fprintf(w, "|%s|\n", strings.Join(sep, "|"))
	for _, row := range rows[1:] {
		line(row)
	}
}
