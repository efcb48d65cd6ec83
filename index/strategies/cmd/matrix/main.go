// Command matrix reads the output of the index strategy benchmarks
// (go test -bench ./index/strategies, any number of runs, -count and -cpu
// values) on stdin and prints the comparison as Markdown tables: ns/op and
// allocs/op per workload and core count, scaling from 1 core, disconnect
// cost and memory.
//
// Each cell is the best (lowest) of the runs: on a shared machine other
// processes only ever add time. cpu-ns/op, this process's CPU time per
// operation, and ext-%, the share of the machine other processes used, are
// shown where they say whether a number was disturbed.
//
//	go test -run '^$' -bench . -benchmem -cpu 1,2,4 ./index/strategies | go run ./index/strategies/cmd/matrix
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
)

func main() {
	res, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "matrix: %s\n", err)
		os.Exit(1)
	}
	if len(res.rows) == 0 {
		fmt.Fprintln(os.Stderr, "matrix: no benchmark lines on stdin")
		os.Exit(1)
	}
	w := bufio.NewWriter(os.Stdout)
	res.print(w)
	if err := w.Flush(); err != nil {
		fmt.Fprintf(os.Stderr, "matrix: %s\n", err)
		os.Exit(1)
	}
}

// writer is io.Writer for the table printers.
type writer = io.Writer
