package server

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"wsfan/codec"
	"wsfan/config"
	"wsfan/limits"
)

// TestNoMessageAfterUnsubscriptionAck unsubscribes while publications of
// the channel keep coming, 200 times, from a channel and from a pattern:
// once the unsubscription_ack is read, no message of the channel may
// follow. A fan-out that walked a snapshot taken before the unsubscribe
// could queue one after the ack.
func TestNoMessageAfterUnsubscriptionAck(t *testing.T) {
	s := startServer(t, func(c *config.Config) { c.Limits.CommandsPerSecond = limits.Off }) // 600 commands in a few seconds
	const channel = "token.race.trade"
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range 2 { // publishers, in-process, paced so that the reader keeps up
		wg.Go(func() {
			pubs := []codec.Publication{{Channel: channel, Data: []byte(`1`)}}
			for !stop.Load() {
				s.hub.Publish(pubs)
				time.Sleep(50 * time.Microsecond)
			}
		})
	}
	defer func() { stop.Store(true); wg.Wait() }()
	for _, sub := range []string{channel, "token.*.trade"} {
		c := dial(t, s)
		for round := 0; round < 100; round++ {
			c.send(fmt.Sprintf(`{"type":"subscribe","id":"s%d","data":{"channels":[%q]}}`, round, sub))
			for f := c.read(); f.Type != "subscription_ack"; f = c.read() {
			}
			// Let some messages arrive, then unsubscribe.
			for range 3 {
				c.expect("message")
			}
			c.send(fmt.Sprintf(`{"type":"unsubscribe","id":"u%d","data":{"channels":[%q]}}`, round, sub))
			for {
				f := c.read()
				if f.Type == "unsubscription_ack" {
					break
				}
			}
			// Anything queued after the ack is read now: a heartbeat's pong
			// comes after whatever was queued before it.
			c.send(`{"type":"heartbeat","id":"after"}`)
			for {
				f := c.read()
				if f.Type == "message" {
					t.Fatalf("%s round %d: a message (seq %d) after the unsubscription_ack", sub, round, f.Seq)
				}
				if f.Type == "pong" {
					break
				}
			}
		}
	}
}

// TestPingsAreSpread checks that each connection is pinged once per
// ping_interval at its own phase: over two intervals every client gets
// pings, and no heartbeat tick pings many more than N × tick / interval.
func TestPingsAreSpread(t *testing.T) {
	const n = 200
	s := startServer(t, func(c *config.Config) {
		c.PingInterval = time.Second
		c.IdleTimeout = 10 * time.Second
	})
	type arrival struct {
		client int
		at     time.Time
	}
	var (
		mu       sync.Mutex
		arrivals []arrival
	)
	start := time.Now()
	for i := 0; i < n; i++ {
		c := dial(t, s)
		c.conn.SetPingHandler(func(string) error {
			mu.Lock()
			arrivals = append(arrivals, arrival{i, time.Now()})
			mu.Unlock()
			return nil
		})
		go func() {
			for {
				if _, _, err := c.conn.ReadMessage(); err != nil {
					return
				}
			}
		}()
	}
	time.Sleep(2500 * time.Millisecond) // observing pings over time: no signal to wait on
	mu.Lock()
	defer mu.Unlock()
	per := map[int]int{}
	windows := map[int64]int{}
	window := heartbeatTick
	for _, a := range arrivals {
		per[a.client]++
		if a.at.Sub(start) > 1200*time.Millisecond { // all connected by then
			windows[int64(a.at.Sub(start)/window)]++
		}
	}
	for i := 0; i < n; i++ {
		if per[i] == 0 {
			t.Fatalf("client %d got no ping in 2.5 s with ping_interval 1s", i)
		}
	}
	busiest := 0
	for _, k := range windows {
		busiest = max(busiest, k)
	}
	// Ideal: n × tick / interval per tick; a window may straddle two ticks.
	ideal := n * int(heartbeatTick) / int(time.Second)
	if busiest > 3*ideal {
		t.Fatalf("%d pings in one %v window for %d clients (ideal %d per tick): the pings come in bursts", busiest, window, n, ideal)
	}
	t.Logf("%d pings; busiest %v window %d (ideal %d)", len(arrivals), window, busiest, ideal)
}
