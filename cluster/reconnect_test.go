package cluster

import (
	"errors"
	"strings"
	"testing"

	"wsfan/codec"
)

// TestReconnect stops the NATS server mid-stream and starts a new one on the
// same port: publishing fails with ErrUnavailable during the outage and
// buffers nothing; afterwards the subscriptions are back and delivery
// resumes.
func TestReconnect(t *testing.T) {
	ns := runServer(t, -1)
	port := serverPort(ns)
	a := connect(t, testConfig(ns, InterestPerChannel), nil)
	b, rec := listening(t, ns, "token.BTC.trade", "token.*.book")
	publish := func(data string) error {
		return a.Publish([]codec.Publication{pub("token.BTC.trade", data)})
	}
	if err := publish(`"before"`); err != nil {
		t.Fatal(err)
	}
	rec.expect(t, "token.BTC.trade", `"before"`)

	ns.Shutdown()
	poll(t, "both bridges to notice the outage", func() bool { return !a.Connected() && !b.Connected() })
	err := publish(`"during"`)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Publish during the outage: err = %v; want ErrUnavailable", err)
	}
	if a.Gaps() != 1 || b.Gaps() != 1 {
		t.Fatalf("Gaps() during the outage = %d, %d; want 1", a.Gaps(), b.Gaps())
	}
	if st := a.Status(); !strings.HasPrefix(st, "reconnecting") {
		t.Fatalf("Status() during the outage = %q; want reconnecting...", st)
	}
	// Interest changes during the outage are sent on reconnect.
	b.Interest("token.ETH.trade", +1)
	b.Interest("token.*.book", -1)

	ns2 := runServer(t, port)
	poll(t, "both bridges to reconnect", func() bool { return a.Connected() && b.Connected() })
	flush(t, b) // the server has the re-sent SUBs
	if got := ns2.NumSubscriptions(); got != 2 {
		t.Fatalf("subscriptions on the new server = %d; want 2 (token.BTC.trade, token.ETH.trade)", got)
	}
	if !strings.HasPrefix(a.Status(), "connected to ") {
		t.Fatalf("Status() after reconnect = %q", a.Status())
	}
	if err := publish(`"after"`); err != nil {
		t.Fatalf("Publish after reconnect: %v", err)
	}
	if err := a.Publish([]codec.Publication{pub("token.ETH.trade", `"eth"`)}); err != nil {
		t.Fatal(err)
	}
	// "during" failed and was not kept to be sent later: "after" is next.
	rec.expect(t, "token.BTC.trade", `"after"`)
	rec.expect(t, "token.ETH.trade", `"eth"`)
	rec.none(t)
	if _, out := a.Stats(); out != 3 {
		t.Fatalf("a out = %d; want 3", out)
	}
}
