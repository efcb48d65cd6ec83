package main

import (
	"fmt"
	"strings"
)

func (c *coordinator) note(format string, a ...any) {
	c.res.Notes = append(c.res.Notes, fmt.Sprintf(format, a...))
}

// checkCores notes when the load processes or the server used (nearly)
// all the CPU they had: then that side may be what limits the numbers. It
// also notes CPU used outside both, which disturbs the run.
func (c *coordinator) checkCores(phase string, sp span) {
	server, load, other := sp.serverCores(), sp.loadCores(), sp.otherCores()
	all := machineCPUs()
	lc, _ := cpuCount(c.o.LoadCPUs)
	sc, _ := cpuCount(c.o.ServerCPUs)
	if lc == 0 {
		lc = all
	}
	if sc == 0 {
		sc = all
	}
	if load >= 0.85*float64(lc) {
		c.note("%s: the load generator used %.2f of its %d cores: the load, not the server, may be the bottleneck", phase, load, lc)
	}
	if c.tgt.pid > 0 && server >= 0.85*float64(sc) {
		c.note("%s: the server used %.2f of its %d cores: it is CPU bound", phase, server, sc)
	}
	if c.o.LoadCPUs == "" && c.o.ServerCPUs == "" && server+load >= 0.85*float64(all) {
		c.note("%s: server and load share %d cores and used %.2f together: neither had the machine to itself", phase, all, server+load)
	}
	if other >= 0.15 {
		c.note("%s: %.2f cores were busy outside the server, the load processes and ksoftirqd (per-CPU busy %s): other processes on the machine disturbed the run", phase, other, formatBusy(sp.cpuBusy()))
	}
}

func formatBusy(b []float64) string {
	parts := make([]string, len(b))
	for i, v := range b {
		parts[i] = fmt.Sprintf("cpu%d %.0f%%", i, 100*v)
	}
	return strings.Join(parts, ", ")
}

func (c *coordinator) failReasons() map[string]int64 {
	m := map[string]int64{}
	for i := range c.latest {
		for k, v := range c.latest[i].FailReasons {
			m[k] += v
		}
	}
	return m
}
