package server

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"wsfan/config"
)

// TestHistoryFloodIsBounded is issue 15's flood: one anonymous connection
// subscribes 400 times to 100 distinct history channels (40,000 names; it
// may hold 100). History state used to be made for every name before the
// validity, rule and limit checks, with a ring each, and kept for minutes:
// hundreds of MB. Only the channels the connection holds may cost memory,
// and a ring only once a publication fills it; wsfan_history_bytes says so.
func TestHistoryFloodIsBounded(t *testing.T) {
	s := startServer(t, func(c *config.Config) {
		c.History.Channels = []string{"token.>"}
		c.Limits.CommandsPerSecond = 100000
		c.Limits.CommandBurst = 100000
	})
	c := dial(t, s)
	before := liveHeap()
	const commands, perCommand = 400, 100
	for i := 0; i < commands; i++ {
		names := make([]string, perCommand)
		for j := range names {
			names[j] = fmt.Sprintf("token.x%d.t", i*perCommand+j)
		}
		ack := c.subscribe(fmt.Sprint(i), names...)
		if i > 0 && len(ack.Rejected) != perCommand {
			t.Fatalf("command %d: %d rejected; want all %d (the connection holds its limit)", i, len(ack.Rejected), perCommand)
		}
	}
	flooded := liveHeap()
	if n := s.hub.Index().Entries(); n > s.cfg.MaxSubscriptionsPerConn {
		t.Errorf("%d channel entries after the flood; the connection holds %d", n, s.cfg.MaxSubscriptionsPerConn)
	}
	if hb := s.hub.HistoryBytes(); hb != 0 {
		t.Errorf("wsfan_history_bytes = %d before any publication; want 0", hb)
	}
	// One publication to each held channel: now the rings exist, and the
	// metric counts them.
	var pubs []string
	for j := 0; j < perCommand; j++ {
		pubs = append(pubs, fmt.Sprintf(`{"channel":"token.x%d.t","data":%d}`, j, j))
	}
	mustPublish(t, s, "["+strings.Join(pubs, ",")+"]")
	for j := 0; j < perCommand; j++ {
		c.expect("message")
	}
	published := liveHeap()
	hb := s.hub.HistoryBytes()
	t.Logf("live heap %d KiB -> %d KiB after the flood -> %d KiB after %d publications; wsfan_history_bytes %d",
		before>>10, flooded>>10, published>>10, perCommand, hb)
	if growth := int64(flooded) - int64(before); growth > 30<<20 {
		t.Errorf("the flood grew the live heap by %d MiB; want under 30", growth>>20)
	}
	rings := int64(published) - int64(flooded)
	if hb <= 0 || hb > rings+64<<10 || (rings > 256<<10 && hb < rings/4) {
		t.Errorf("wsfan_history_bytes = %d for %d bytes the rings added to the heap", hb, rings)
	}
	runtime.KeepAlive(c)
}
