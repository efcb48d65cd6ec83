package server

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"wsfan/codec"
	"wsfan/config"
	"wsfan/conn"
	"wsfan/ws/wstest"
)

// slowDial connects with a small receive buffer (a client on a bad
// network holds little in flight) and upgrades by hand.
func slowDial(t *testing.T, s *Server, rcvbuf int) *rawConn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf) })
	}}
	c, err := d.Dial("tcp", s.PublicAddr())
	if err != nil {
		t.Fatal(err)
	}
	rc := newRawConn(t, c)
	rc.write([]byte(upgradeRequest("")))
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if resp, err := http.ReadResponse(rc.r, nil); err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	rc.r = bufio.NewReaderSize(c, 16) // read frames as they come, no more
	return rc
}

// TestConflationSlowReader: a client reading one message a second from a
// conflated channel published 200 times a second stays connected, the
// server holds under two messages of the channel for it, and each value it
// reads is at most interval + 1 s old; meanwhile a client of a channel
// that is not conflated gets every publication, in order.
func TestConflationSlowReader(t *testing.T) {
	const (
		ticker = "token.BTC.ticker"
		trades = "token.BTC.trade"
	)
	interval := 100 * time.Millisecond
	duration := 60 * time.Second
	if testing.Short() {
		duration = 10 * time.Second
	}
	s := startServer(t, func(c *config.Config) {
		c.Conflation.Channels = []string{"token.*.ticker"}
		c.Conflation.Interval = interval
		c.Conflation.SocketSendBuffer = 4096 // the kernel holds under one message
	})
	slow := slowDial(t, s, 4096)
	slow.write(wstest.Text(`{"type":"subscribe","id":"s","data":{"channels":["` + ticker + `"]}}`))
	slow.expectJSON("subscription_ack")
	fast := dial(t, s)
	fast.subscribe("f", trades)
	var srvSlow *conn.Conn
	for _, c := range s.reg.all() {
		if srvSlow == nil || c.ID() < srvSlow.ID() {
			srvSlow = c
		}
	}

	// The publisher: 200/s on each channel; the ticker's value is the
	// publication time, and a 16 KB pad (an order book's size) keeps what
	// the kernel holds under one message.
	pad := strings.Repeat("p", 16<<10)
	var (
		stop       atomic.Bool
		wg         sync.WaitGroup
		published  atomic.Int64
		maxBacklog atomic.Int64
	)
	wg.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for n := 1; !stop.Load(); n++ {
			<-tick.C
			now := time.Now().UnixNano()
			s.hub.Publish([]codec.Publication{
				{Channel: ticker, Data: []byte(fmt.Sprintf(`{"t":%d,"pad":%q}`, now, pad))},
				{Channel: trades, Data: []byte(fmt.Sprint(n))},
			})
			published.Store(int64(n))
			if b := int64(srvSlow.Backlog()); b > maxBacklog.Load() {
				maxBacklog.Store(b)
			}
		}
	})
	// The fast client reads every trade, in order.
	var trailing atomic.Int64
	wg.Go(func() {
		for want := 1; ; want++ {
			_ = fast.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, b, err := fast.conn.ReadMessage()
			if err != nil {
				if !stop.Load() {
					t.Errorf("the fast client: %v", err)
				}
				return
			}
			var m frame
			_ = json.Unmarshal(b, &m)
			if string(m.Data) != fmt.Sprint(want) {
				t.Errorf("the fast client got %s; want %d", m.Data, want)
				return
			}
			trailing.Store(int64(want))
		}
	})

	frameLen := len(codec.AppendMessageFrame(nil, ticker, 1, 1, []byte(fmt.Sprintf(`{"t":%d,"pad":%q}`, time.Now().UnixNano(), pad))))
	// A value is at most interval + 1 s old when read, plus the time it
	// takes to publish, fan out and write: the publisher's own period (a
	// value is up to 5 ms old when the interval ends) and scheduling.
	const slack = 50 * time.Millisecond
	var last uint64
	reads := 0
	pace := time.NewTicker(time.Second) // the slow reader's pace: the point of the test
	defer pace.Stop()
	for end := time.Now().Add(duration); time.Now().Before(end); reads++ {
		<-pace.C
		slow.write(wstest.Frame(0x8A, nil, false)) // a pong: alive, if slow
		f := slow.next()
		var m struct {
			Seq       uint64 `json:"seq"`
			Conflated uint64 `json:"conflated"`
			Data      struct {
				T int64 `json:"t"`
			} `json:"data"`
		}
		if err := json.Unmarshal(f.Payload, &m); err != nil {
			t.Fatalf("read %d: %q", reads, f.Payload)
		}
		if last != 0 && m.Seq != last+1+m.Conflated {
			t.Fatalf("read %d: seq %d after %d with conflated %d", reads, m.Seq, last, m.Conflated)
		}
		last = m.Seq
		if age := time.Since(time.Unix(0, m.Data.T)); age > interval+time.Second+slack {
			t.Errorf("read %d: the value is %v old", reads, age.Round(time.Millisecond))
		}
	}
	stop.Store(true)
	wg.Wait()
	if b := maxBacklog.Load(); b >= 2*int64(frameLen) {
		t.Errorf("the server held up to %d bytes for the slow reader: %d messages of %d bytes", b, b/int64(frameLen), frameLen)
	}
	if counter(s, "wsfan_slow_consumer_disconnects_total") != 0 || srvSlow.Closing() {
		t.Fatal("the slow reader was closed")
	}
	t.Logf("%d reads; %d publications a channel; the fast client read %d trades; max backlog %d bytes (%d-byte messages); %d unsent messages replaced",
		reads, published.Load(), trailing.Load(), maxBacklog.Load(), frameLen, counter(s, "wsfan_conflation_replaced_unsent_total"))
}
