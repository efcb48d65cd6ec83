package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sampleOutput = `goos: linux
goarch: amd64
pkg: wsfan/index/strategies
cpu: AMD EPYC
BenchmarkLookup/rwmap           	 1000	        21.40 ns/op	        21.30 cpu-ns/op	         0.5 ext-%	       0 B/op	       0 allocs/op
BenchmarkLookup/rwmap           	 1000	        22.00 ns/op	        21.90 cpu-ns/op	         0.1 ext-%	       0 B/op	       0 allocs/op
BenchmarkLookup/rwmap-2         	 1000	        27.00 ns/op	        54.00 cpu-ns/op	         0.2 ext-%	       0 B/op	       0 allocs/op
BenchmarkLookup/striped16       	 1000	        24.00 ns/op	        24.00 cpu-ns/op	        50.0 ext-%	       0 B/op	       0 allocs/op
BenchmarkLookup/striped16-2     	 1000	        12.00 ns/op	        24.00 cpu-ns/op	         1.0 ext-%	       0 B/op	       0 allocs/op
BenchmarkLookup/striped4-2      	 1000	        12.50 ns/op	        25.00 cpu-ns/op	         1.0 ext-%	       0 B/op	       0 allocs/op
BenchmarkDisconnect/tail/rwmap  	 1000	      1140 ns/op	     530 B/op	       3 allocs/op
BenchmarkDisconnect/tail/striped16 	 1000	      1495 ns/op	     721 B/op	       7 allocs/op
BenchmarkMemory/rwmap           	    1	   1845032 heap-B	       0 B/op	       0 allocs/op
BenchmarkMemory/striped16       	    1	   2152320 heap-B	       0 B/op	       0 allocs/op
PASS
`

func TestParseLine(t *testing.T) {
	f := func(line string, want key, ns float64) {
		t.Helper()
		k, s, err := parseLine(line)
		if err != nil {
			t.Fatalf("parseLine(%q): %s", line, err)
		}
		if k != want || s.ns != ns {
			t.Fatalf("parseLine(%q) = %+v, ns %g; want %+v, ns %g", line, k, s.ns, want, ns)
		}
	}
	f("BenchmarkLookup/striped16 1 24 ns/op", key{"Lookup", "striped16", 1}, 24)
	f("BenchmarkLookup/striped16-4 1 24 ns/op", key{"Lookup", "striped16", 4}, 24)
	f("BenchmarkMixed/zipf/striped16+count-2 1 3000 ns/op 2 allocs/op", key{"Mixed/zipf", "striped16+count", 2}, 3000)
	for _, bad := range []string{"BenchmarkLookup 1 2 ns/op", "BenchmarkLookup/x 1 two ns/op", "BenchmarkLookup/x 1 2"} {
		if _, _, err := parseLine(bad); err == nil {
			t.Fatalf("parseLine(%q) succeeded; want an error", bad)
		}
	}
}

func TestPrint(t *testing.T) {
	res, err := parse(strings.NewReader(sampleOutput))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	res.print(&buf)
	out := buf.String()
	t.Logf("\n%s", out)
	for _, want := range []string{
		"| strategy ", "lookup 1c", "lookup 2c", "disconnect/tail", "memory MiB",
		"| rwmap ", "**21.4**", // the best of two runs, and the fastest of its column
		"24.0 †",   // disturbed: ext-% 50
		"**12.0**", // the fastest at 2 cores
		"| striped16 vs fastest |",
		"2.00", // striped16's throughput from 1 to 2 cores
		"1.76", // rwmap's memory, MiB
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the output lacks %q", want)
		}
	}
}

// TestRecorded prints the recorded matrix in testdata, which
// docs/BENCHMARKS.md quotes.
func TestRecorded(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/*.txt")
	if len(files) == 0 {
		t.Skip("no recorded output")
	}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		res, err := parse(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %s", name, err)
		}
		var buf bytes.Buffer
		res.print(&buf)
		if !strings.Contains(buf.String(), "| "+production+" ") {
			t.Fatalf("%s: the matrix has no %s row:\n%s", name, production, buf.String())
		}
	}
}
