package server

import (
	"fmt"
	"strings"
	"testing"

	"wsfan/config"
)

// TestRepliesAreBounded sends a subscribe naming 10,000 channels, which
// used to be answered with a 1.3 MB ack (one rejection each), more than
// max_pending_bytes, so that a client reading normally was closed as a slow
// consumer. Past max_channels_per_command the command is refused whole;
// at the cap the ack fits by construction, even with every name rejected
// and quoted at length.
func TestRepliesAreBounded(t *testing.T) {
	s := startServer(t, func(c *config.Config) { c.MaxMessageBytes = 1 << 20 })
	c := dial(t, s)
	names := func(n int, f string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf(f, i)
		}
		return out
	}
	c.send(`{"type":"subscribe","id":"big","data":{"channels":["` + strings.Join(names(10000, "token.c%d.t"), `","`) + `"]}}`)
	e := c.expect("error")
	if e.ID != "big" || e.Code != "TOO_MANY_SUBSCRIPTIONS" || !strings.Contains(e.Message, "max_channels_per_command") {
		t.Fatalf("10,000 channels -> %s; want error TOO_MANY_SUBSCRIPTIONS", e.raw)
	}
	if n := s.hub.Index().Subscriptions(); n != 0 {
		t.Fatalf("a refused command subscribed %d channels", n)
	}
	// At the cap, every name invalid and long: the ack fits.
	limit := s.cfg.MaxChannelsPerCommand
	ack := c.subscribe("cap", names(limit, "bad..%d"+strings.Repeat("\\u0001", 400))...)
	if len(ack.Rejected) != limit || len(ack.raw) > limit*2048+1024 {
		t.Fatalf("ack of %d rejections: %d rejected, %d bytes", limit, len(ack.Rejected), len(ack.raw))
	}
	c.send(`{"type":"heartbeat","id":"alive"}`)
	if p := c.expect("pong"); p.ID != "alive" {
		t.Fatalf("pong %s", p.raw)
	}
}
