package main

import "testing"

func TestCPUCount(t *testing.T) {
	for list, want := range map[string]int{"": 0, "0": 1, "1": 1, "0-1": 2, "0,2-3": 3} {
		n, err := cpuCount(list)
		if err != nil {
			t.Errorf("cpuCount(%q): %v", list, err)
		}
		eq(t, n, want, "cpuCount(%q)", list)
	}
	for _, bad := range []string{"3-1", "a"} {
		if n, err := cpuCount(bad); err == nil || n != 0 {
			t.Errorf("cpuCount(%q) = %d, %v; want 0 and an error", bad, n, err)
		}
	}
}
