package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/lesismal/nbio"
	"github.com/lesismal/nbio/nbhttp/websocket"
)

// newRaw builds the load generator's own frame reader for slot c.
func (w *worker) newRaw(nbc *nbio.Conn, session any) *rawConn {
	c := session.(*conn)
	r := &rawConn{
		conn:  nbc,
		write: func(b []byte) error { _, err := nbc.Write(b); return err },
		shut:  nbc.Close,
		text:  func(p []byte) { w.onText(c, p) },
	}
	r.gone = func(err error) {
		code, reason := r.peerClose()
		w.onClosed(c, code, reason, err)
	}
	return r
}

// onMessage is nbio's message handler (-frame-reader nbio).
func (w *worker) onMessage(ws *websocket.Conn, _ websocket.MessageType, data []byte) {
	if c, ok := ws.Session().(*conn); ok {
		w.onText(c, data)
	}
}

// onClose is nbio's close handler (-frame-reader nbio).
func (w *worker) onClose(ws *websocket.Conn, err error) {
	c, ok := ws.Session().(*conn)
	if !ok {
		return
	}
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		w.onClosed(c, ce.Code, ce.Reason, err)
		return
	}
	w.onClosed(c, 0, "", err)
}

// onText handles one server message of slot c. It runs on the poller that
// read it, in order per connection.
func (w *worker) onText(c *conn, data []byte) {
	f := parseFrame(data)
	switch f.kind {
	case frameMessage:
		now := time.Now().UnixNano()
		sh := c.sh
		sh.mu.Lock()
		sh.received++
		if c.observer {
			sh.obsReceived++
		}
		if f.sent > 0 {
			recordMicros(sh.hist, (now-f.sent)/1000)
			if c.observer {
				recordMicros(sh.obsHist, (now-f.sent)/1000)
			}
		} else {
			sh.noTS++
		}
		found := false
		for j := range c.chans {
			if c.chans[j].name == string(f.channel) {
				if f.hasSeq {
					c.chans[j].observe(f.seq, f.conflated, f.value, now)
				}
				found = true
				break
			}
		}
		if !found {
			sh.unknownChan++
		}
		sh.mu.Unlock()
	case frameAck:
		w.onAck(c, f.rejected)
	case frameError:
		w.errorFrames.Add(1)
	default:
		w.otherFrames.Add(1)
	}
}

// onClosed runs once per connection when its socket closed; code is the
// server's close code (0: it sent no close frame).
func (w *worker) onClosed(c *conn, code int, reason string, err error) {
	w.open.Add(-1)
	c.isOpen.Store(false)
	if !c.closing.Load() {
		why := fmt.Sprintf("%d %s", code, reason)
		if code == 0 {
			why = "abnormal"
			if err != nil {
				why = clip("abnormal: "+err.Error(), 60)
			}
		}
		w.tally(w.closes, &w.closeLog, c, why, 1)
	}
	att := c.att.Load()
	att.markClosed()
	att.finish(false) // a close before the ack fails the attempt
}
