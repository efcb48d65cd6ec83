package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/lesismal/nbio"
	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"

	"wsfan/bench/internal/rfc6455"
)

// errHandshakeTimeout is reported when connect + upgrade take longer than
// the dial timeout.
var errHandshakeTimeout = errors.New("bench: handshake timeout")

// wsDialer opens client WebSockets on an nbio engine from a chosen local
// address. nbio's websocket.Dialer (v1.6.12) has no way to set the local
// address: it builds its nbhttp.ClientConn without the ClientConn.Dial hook.
// dial therefore does what Dialer.DialContext does, with ClientConn.Dial
// set to a net.Dialer whose LocalAddr is the source address; everything
// after the TCP connect (request, response parsing, the switch to the
// WebSocket parser) is nbio's own code, run on its pollers.
// A wsDialer is safe for concurrent use; each dial gets its own
// ClientConn, the "one Dialer per dial" rule of DESIGN.md.
type wsDialer struct {
	engine   *nbhttp.Engine
	upgrader *websocket.Upgrader // for nbio's frame reader (raw == nil)
	timeout  time.Duration
	// raw, when set, builds the load generator's own frame reader for a
	// connection instead of nbio's websocket.Conn.
	raw func(nbc *nbio.Conn, session any) *rawConn
	// onData wraps the engine's data handler for every connection (reads
	// counting); nil: the engine's handler.
	onData func(c *nbio.Conn, data []byte)
	// offer, when set, reports whether a connection's session offers
	// permessage-deflate (raw frame reader only).
	offer func(session any) bool
}

// link is an open client WebSocket: nbio's websocket.Conn or a rawConn.
type link interface {
	writeText(b []byte) error
	writeClose(code int) error
	close() error
}

// nbioLink adapts nbio's websocket.Conn.
type nbioLink struct{ ws *websocket.Conn }

func (l nbioLink) writeText(b []byte) error  { return l.ws.WriteMessage(websocket.TextMessage, b) }
func (l nbioLink) writeClose(code int) error { return l.ws.WriteClose(code, "") }
func (l nbioLink) close() error              { return l.ws.Close() }

// dial connects to u (ws://host:port/path) from local (nil: the kernel's
// choice) and calls done exactly once, with the open connection (bound to
// session) or an error. It blocks only for the TCP
// connect; done runs on nbio's goroutines (or the caller's, for a connect
// error) and must not block. On success done runs before the connection
// is switched to the WebSocket parser, so no frame or close of it reaches
// the handlers before done returns; done may write to it.
func (d *wsDialer) dial(u *url.URL, local net.IP, session any, done func(link, error)) {
	key := challengeKey()
	req := &http.Request{
		Method:     http.MethodGet,
		URL:        &url.URL{Scheme: "http", Host: u.Host, Path: u.Path, RawQuery: u.RawQuery},
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header: http.Header{
			"Upgrade":               {"websocket"},
			"Connection":            {"Upgrade"},
			"Sec-Websocket-Key":     {key},
			"Sec-Websocket-Version": {"13"},
		},
		Host: u.Host,
	}
	offered := d.raw != nil && d.offer != nil && d.offer(session)
	if offered {
		req.Header.Set("Sec-Websocket-Extensions", deflateOffer)
	}
	nd := &net.Dialer{Timeout: d.timeout}
	if local != nil {
		nd.LocalAddr = &net.TCPAddr{IP: local}
	}
	cli := &nbhttp.ClientConn{Engine: d.engine, Timeout: d.timeout, Dial: nd.Dial}

	var finished atomic.Bool
	timer := time.AfterFunc(d.timeout, func() {
		if finished.CompareAndSwap(false, true) {
			cli.CloseWithError(errHandshakeTimeout)
			done(nil, errHandshakeTimeout)
		}
	})
	// finish reports the outcome unless the timeout already did; it
	// returns false when the timeout won.
	finish := func(l link, err error) bool {
		if !finished.CompareAndSwap(false, true) {
			return false
		}
		timer.Stop()
		done(l, err)
		return true
	}

	cli.Do(req, func(resp *http.Response, conn net.Conn, err error) {
		if err != nil {
			finish(nil, err)
			return
		}
		fail := func(err error) {
			// cli's lock is held here and closing may run cli's close
			// callback inline: close from another goroutine (rare path).
			go func() { _ = conn.Close() }()
			finish(nil, err)
		}
		nbc, ok := conn.(*nbio.Conn)
		if !ok {
			fail(errors.New("bench: not an nbio connection"))
			return
		}
		parser, ok := nbc.Session().(*nbhttp.Parser)
		if !ok {
			fail(errors.New("bench: no nbhttp parser on the connection"))
			return
		}
		if resp.StatusCode != http.StatusSwitchingProtocols {
			fail(fmt.Errorf("HTTP %d", resp.StatusCode))
			return
		}
		if !rfc6455.HeaderHas(resp.Header, "Upgrade", "websocket") || !rfc6455.HeaderHas(resp.Header, "Connection", "upgrade") ||
			resp.Header.Get("Sec-Websocket-Accept") != rfc6455.AcceptKey(key) {
			fail(websocket.ErrBadHandshake)
			return
		}
		// As websocket.Dialer does: bytes after the response, in this
		// read or later ones, go to the WebSocket parser, which is attached
		// after done so that no frame or close reaches it first.
		negotiated := negotiatedDeflate(resp.Header.Get("Sec-Websocket-Extensions"))
		if negotiated && !offered {
			fail(errors.New("bench: the server answered an extension that was not offered"))
			return
		}
		var pc nbhttp.ParserCloser
		if d.raw != nil {
			r := d.raw(nbc, session)
			r.inflate = negotiated
			if !finish(r, nil) {
				go func() { _ = conn.Close() }() // too late; cli's lock is held
				return
			}
			pc = r
		} else {
			ws := websocket.NewClientConn(d.upgrader, conn, "", false, false)
			ws.Engine = parser.Engine
			// The handlers are short and never block, so they run on the
			// poller that read the frame, not on nbio's task pool.
			ws.Execute = nbhttp.SyncExecutor
			ws.SetSession(session)
			if !finish(nbioLink{ws}, nil) {
				go func() { _ = conn.Close() }()
				return
			}
			pc = ws
		}
		parser.ParserCloser = pc
		nbc.SetSession(pc)
		if d.onData != nil {
			nbc.OnData(d.onData)
		}
	})
}

// challengeKey returns a fresh Sec-WebSocket-Key.
func challengeKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// sourceIP returns the loopback source address of connection i:
// 127.0.0.2 .. 127.0.0.(1+n), round robin. Each address has its own
// ~28K ephemeral ports towards one server address.
func sourceIP(i, n int) net.IP {
	return net.IPv4(127, 0, 0, byte(2+i%n))
}
