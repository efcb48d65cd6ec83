package conn

import (
	"net"

	"wsfan/lib/bytespool"
	"wsfan/ws"
)

// The Conn is nbio's session of an upgraded socket: nbhttp's engine calls
// Parse with what the poller read (decrypted under TLS) and CloseAndClean
// once, on the connection's executor, when the socket is gone.

// UnderlayerConn returns the connection nbhttp handed over at a TLS
// upgrade: nbhttp's TLS read path reaches the TLS state through it, and
// nothing else in nbio calls it. For a plain connection, the socket.
func (c *Conn) UnderlayerConn() net.Conn {
	if c.hc != nil {
		return c.hc
	}
	return c.nbc
}

// Parse feeds what the poller read to the frame reader. Whole messages and
// control frames go to the connection's nbio executor, in order; a frame
// that breaks RFC 6455 closes the connection with the code the reader
// gives. It never returns an error: nbio would close the socket at once,
// without our close frame.
func (c *Conn) Parse(data []byte) error {
	c.touch()
	c.rmu.Lock()
	c.rd.Feed(data, (*frames)(c))
	c.rmu.Unlock()
	return nil
}

// CloseAndClean releases what the connection holds and hands its
// subscriptions to the Handler; nbio calls it once, after every job Parse
// queued for it.
func (c *Conn) CloseAndClean(error) {
	if c.held {
		c.env.parked.take(c) // never run: the socket is gone
	}
	subs := c.markGone()
	c.env.handler.Closed(c, subs)
}

// frames is the Conn as the reader's ws.Handler. Its methods run on the
// poller under c.rmu; they hand the work to the connection's executor,
// which runs it in order with every other job of the connection.
type frames Conn

func (f *frames) Message(op byte, payload []byte) {
	c := (*Conn)(f)
	buf := bytespool.Get()
	*buf = append(*buf, payload...) // the poller reuses payload's memory
	if !c.run(func() {
		c.env.handler.Message(c, op, *buf)
		bytespool.Put(buf)
	}) {
		bytespool.Put(buf)
	}
}

func (f *frames) Ping(payload []byte) {
	c := (*Conn)(f)
	var p [ws.MaxControlPayload]byte
	n := copy(p[:], payload)
	c.run(func() { c.env.handler.Ping(c, p[:n]) })
}

func (f *frames) Pong([]byte) {} // Parse already noted the peer is alive

func (f *frames) Close(code int, reason string) {
	c := (*Conn)(f)
	c.run(func() { c.peerClose(code, reason) })
}

func (f *frames) Fail(code int, reason string) {
	c := (*Conn)(f)
	if c.RequestClose(code, reason, false) {
		c.env.m.protocolErrors.Inc()
	}
}
