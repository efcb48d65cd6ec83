package server

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"wsfan/config"
)

func historyServer(t *testing.T, size int) *Server {
	t.Helper()
	return startServer(t, func(c *config.Config) {
		c.History.Channels = []string{"token.*.trade"}
		c.History.Size = size
	})
}

// subscribeSince subscribes to channel asking for what followed (epoch, seq).
func (c *wsClient) subscribeSince(id, channel, epoch string, seq uint64) frame {
	c.t.Helper()
	b, _ := json.Marshal(map[string]any{"type": "subscribe", "id": id, "data": map[string]any{
		"channels": []string{channel},
		"since":    map[string]any{channel: map[string]any{"epoch": epoch, "seq": seq}},
	}})
	c.send(string(b))
	return c.expect("subscription_ack")
}

func publishN(t testing.TB, s *Server, channel string, from, n int) {
	t.Helper()
	var batch []string
	for i := from; i < from+n; i++ {
		batch = append(batch, fmt.Sprintf(`{"channel":%q,"data":{"n":%d}}`, channel, i))
	}
	mustPublish(t, s, "["+strings.Join(batch, ",")+"]")
}

func TestRecoveryAfterReconnect(t *testing.T) {
	s := historyServer(t, 100)
	const ch = "token.BTC.trade"
	c := dial(t, s)
	ack := c.subscribe("1", ch)
	if len(ack.Positions) != 1 || ack.Positions[0].Channel != ch || ack.Positions[0].Seq != 0 || ack.Recovered == nil {
		t.Fatalf("first ack %s: want a position at seq 0", ack.raw)
	}
	epoch := ack.Positions[0].Epoch
	publishN(t, s, ch, 1, 3)
	var last uint64
	for i := 0; i < 3; i++ {
		last = c.expect("message").Seq
	}
	_ = c.conn.Close()

	publishN(t, s, ch, 4, 50) // missed while away: seq 4..53

	c2 := dial(t, s)
	ack = c2.subscribeSince("2", ch, epoch, last)
	if ack.Recovered == nil || !*ack.Recovered || ack.Positions[0].Seq != 53 || ack.Positions[0].Epoch != epoch {
		t.Fatalf("reconnect ack %s: want recovered at seq 53", ack.raw)
	}
	publishN(t, s, ch, 54, 5) // live ones after the replay
	for want := last + 1; want <= 58; want++ {
		m := c2.expect("message")
		if m.Seq != want || string(m.Data) != fmt.Sprintf(`{"n":%d}`, want) {
			t.Fatalf("got %s; want seq %d", m.raw, want)
		}
	}
	if counter(s, `wsfan_history_recoveries_total{result="recovered"}`) != 1 {
		t.Fatalf("recoveries counter %d", counter(s, `wsfan_history_recoveries_total{result="recovered"}`))
	}
}

func TestRecoveryRefusedWhenTooOldOrOtherEpoch(t *testing.T) {
	s := historyServer(t, 10)
	const ch = "token.ETH.trade"
	c := dial(t, s)
	epoch := c.subscribe("1", ch).Positions[0].Epoch
	publishN(t, s, ch, 1, 30) // the ring keeps 21..30

	f := func(id, epoch string, seq uint64, want bool) {
		t.Helper()
		c := dial(t, s)
		ack := c.subscribeSince(id, ch, epoch, seq)
		if ack.Recovered == nil || *ack.Recovered != want {
			t.Fatalf("since (%q, %d): ack %s; want recovered=%v", epoch, seq, ack.raw, want)
		}
		publishN(t, s, ch, 1000, 1)
		m := c.expect("message") // no replay when not recovered: the live one comes first
		if !want && m.Seq != ack.Positions[0].Seq+1 {
			t.Fatalf("not recovered, yet got %s before the live message", m.raw)
		}
		if want && m.Seq != seq+1 {
			t.Fatalf("recovered from %d, first message %s", seq, m.raw)
		}
	}
	f("a", epoch, 5, false)    // evicted
	f("b", "other", 29, false) // another run or node
	f("c", epoch, 999, false)  // from the future
	f("d", epoch, 25, true)    // still held (ring moved on by the test's own publishes)

	// A channel without history: the ack has no position, and a since for
	// it is not recovered.
	c2 := dial(t, s)
	ack := c2.subscribeSince("e", "user.1.favorites", epoch, 1)
	if len(ack.Positions) != 0 || ack.Recovered == nil || *ack.Recovered {
		t.Fatalf("no-history channel ack %s", ack.raw)
	}
}

func TestRecoveryRacingPublications(t *testing.T) {
	s := historyServer(t, 100000)
	const ch = "token.SOL.trade"
	// A subscriber stays, so that the channel keeps its entry (and epoch)
	// from the first publication on.
	epoch := dial(t, s).subscribe("1", ch).Positions[0].Epoch
	publishN(t, s, ch, 1, 10)

	since := uint64(5)
	for iter := 0; iter < 20; iter++ {
		var wg sync.WaitGroup
		stop := make(chan struct{})
		wg.Go(func() { // publications keep arriving during the replay
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if code, body := publish(t, s, fmt.Sprintf(`[{"channel":%q,"data":1},{"channel":%q,"data":2}]`, ch, ch)); code != 200 {
					t.Errorf("publish: %d %s", code, body)
					return
				}
			}
		})
		r := dial(t, s)
		ack := r.subscribeSince("r", ch, epoch, since)
		if ack.Recovered == nil || !*ack.Recovered {
			close(stop)
			wg.Wait()
			t.Fatalf("iteration %d: ack %s", iter, ack.raw)
		}
		head := ack.Positions[0].Seq
		// Read past the head: every seq after since, once, in order.
		for want := since + 1; want <= head+3; want++ {
			if m := r.expect("message"); m.Seq != want {
				close(stop)
				wg.Wait()
				t.Fatalf("iteration %d: got seq %d; want %d (since %d, head %d)", iter, m.Seq, want, since, head)
			}
		}
		close(stop)
		wg.Wait()
		_ = r.conn.Close()
		since = head - 10 // the next reconnect misses a few, not thousands
	}
}

func TestHistoryMemoryIsBounded(t *testing.T) {
	s := historyServer(t, 20)
	payload := `"` + strings.Repeat("x", 500) + `"`
	for i := 0; i < 10; i++ {
		var batch []string
		for j := 0; j < 20; j++ {
			batch = append(batch, `{"channel":"token.X.trade","data":`+payload+`}`)
		}
		mustPublish(t, s, "["+strings.Join(batch, ",")+"]")
	}
	// 20 entries of a ~580-byte frame, whatever the number of publications.
	if got := s.hub.HistoryBytes(); got <= 20*500 || got > 20*1024 {
		t.Fatalf("history holds %d bytes for 20 entries of ~580 bytes", got)
	}
	// Channels outside [history] keep nothing.
	mustPublish(t, s, `{"channel":"token.X.book","data":`+payload+`}`)
	before := s.hub.HistoryBytes()
	mustPublish(t, s, `{"channel":"token.Y.book","data":`+payload+`}`)
	if s.hub.HistoryBytes() != before {
		t.Fatal("a channel without history took history memory")
	}
}
