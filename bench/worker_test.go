package main

import "testing"

func TestShareAndSources(t *testing.T) {
	// Every index belongs to exactly one process.
	for procs := 1; procs <= 4; procs++ {
		total := 0
		for id := range procs {
			total += share(0, 19000, id, procs)
		}
		if total != 19000 {
			t.Fatalf("procs=%d: shares sum to %d", procs, total)
		}
	}
	if got := sourceIP(0, 4).String(); got != "127.0.0.2" {
		t.Fatalf("sourceIP(0) = %s", got)
	}
	if got := sourceIP(7, 4).String(); got != "127.0.0.5" {
		t.Fatalf("sourceIP(7) = %s", got)
	}
}
