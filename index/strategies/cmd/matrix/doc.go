// Command matrix reads the output of the index strategy benchmarks
// (go test -bench ./index/strategies, any number of runs, -count and -cpu
// values) on stdin and prints the comparison as Markdown tables: ns/op and
// allocs/op per workload and core count, scaling from 1 core, disconnect
// cost and memory.
//
// Each cell is the best (lowest) of the runs: on a shared machine other
// processes only ever add time. cpu-ns/op, this process's CPU time per
// operation, and ext-%, the share of the machine other processes used, are
// shown where they say whether a number was disturbed. It runs on one
// goroutine, reading stdin to the end before it prints.
//
//	go test -run '^$' -bench . -benchmem -cpu 1,2,4 ./index/strategies | go run ./index/strategies/cmd/matrix
package main
