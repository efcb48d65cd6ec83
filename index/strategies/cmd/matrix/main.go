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
