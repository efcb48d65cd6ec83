package server

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"wsfan/ws/wstest"
)

// TestPoliteCloseChurn connects, upgrades and closes politely (the client
// starts the close handshake, reads the echo and the server's FIN) 10,000
// times in a row, each connection right after the previous one: every
// upgrade must be answered. A socket the server closed from outside nbio's
// poller used to leave an event of the old connection behind that the
// poller applied to the next one, which got the same file descriptor, so a
// few upgrades in 10,000 were dropped without an answer.
func TestPoliteCloseChurn(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 connections in a row")
	}
	s := startServer(t, nil)
	const cycles = 10000
	unanswered, badClose := 0, 0
	var firstErr error
	for i := 0; i < cycles; i++ {
		rc := rawDial(t, s)
		rc.write([]byte(upgradeRequest("")))
		if status, _, err := rc.response(); status != 101 {
			unanswered++
			firstErr = errors.Join(firstErr, err)
			_ = rc.c.Close()
			continue
		}
		rc.write(wstest.Frame(wstest.FinClose, wstest.ClosePayload(1000, "bye"), false))
		code, reason, _ := rc.closeResult(5 * time.Second)
		if code != 1000 || reason != "bye" {
			badClose++
		}
		_ = rc.c.Close()
	}
	if unanswered > 0 || badClose > 0 {
		t.Fatalf("%d of %d upgrades got no answer (%v), %d close echoes were wrong", unanswered, cycles, firstErr, badClose)
	}
	waitFor(t, "every connection gone", func() bool { return s.conns.Load() == 0 && s.reg.len() == 0 })
}

// TestCloseFrameSurvivesClientWrites sends a frame announced at 1 MiB and
// goes on writing its payload while it reads: the server's close 1009 must
// arrive, followed by an orderly end of stream. A server that closes the
// socket while the client's bytes are still unread makes the kernel answer
// with a reset, and the client loses the close frame in flight.
func TestCloseFrameSurvivesClientWrites(t *testing.T) {
	s := startServer(t, nil)
	payload := []byte(strings.Repeat("x", 1<<20))
	frame := wstest.Frame(wstest.FinText, payload, false)
	for run := 0; run < 20; run++ {
		rc := rawUpgrade(t, s)
		written := make(chan error, 1)
		go func() {
			_ = rc.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
			_, err := rc.c.Write(frame)
			written <- err
		}()
		code, reason, before := rc.closeResult(10 * time.Second)
		if code != 1009 || reason != "message too big" || len(before) != 0 {
			t.Fatalf("run %d: %s after %d frames; want close 1009 \"message too big\"", run, describeClose(code, reason), len(before))
		}
		// What follows the close frame is the end of the stream, not a
		// reset: the server read (and dropped) everything the client sent.
		_ = rc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := rc.r.ReadByte(); err != io.EOF {
			t.Fatalf("run %d: after the close frame: %v; want EOF", run, err)
		}
		if err := <-written; err != nil {
			t.Fatalf("run %d: the client's 1 MiB write failed: %v", run, err)
		}
		_ = rc.c.Close()
	}
}
