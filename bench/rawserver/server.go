package rawserver

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Server is a running raw reference server. Its methods may be called
// from any goroutine.
type Server struct {
	key     string
	ln      net.Listener // public: GET /ws
	adminLn net.Listener // internal: POST /publish, GET /metrics, GET /healthz
	admin   *http.Server

	mu     sync.Mutex
	chans  map[string]*channel // every channel subscribed or published to; guarded by mu
	conns  map[*conn]struct{}  // open connections; guarded by mu
	closed bool                // guarded by mu

	wg sync.WaitGroup // the accept loop and the connection goroutines

	nConns, nSubs, nChans                       atomic.Int64
	accepted, publications, deliveries          atomic.Uint64
	writes, bytesOut, closedByErr, rejectedAuth atomic.Uint64
}

// channel is one channel's subscribers and seq.
type channel struct {
	name string

	// mu is held from taking the seq to the last write of a publication,
	// so that each subscriber gets the channel's frames in seq order.
	mu   sync.Mutex
	seq  uint64        // last seq given; guarded by mu
	subs []*conn       // guarded by mu
	pos  map[*conn]int // index in subs; guarded by mu
}

// conn is one upgraded connection. Its goroutine reads its commands; any
// goroutine may write to it.
type conn struct {
	s   *Server
	nc  net.Conn
	wmu sync.Mutex // one write at a time, so frames stay whole

	subs map[string]*channel // this connection's channels; its goroutine only
}

// Start listens on listen (public) and admin (internal) and serves until
// Close. key is the publish key (Authorization: Bearer).
func Start(listen, admin, key string) (*Server, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s: %w", listen, err)
	}
	aln, err := net.Listen("tcp", admin)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("cannot listen on %s: %w", admin, err)
	}
	s := &Server{key: key, ln: ln, adminLn: aln, chans: map[string]*channel{}, conns: map[*conn]struct{}{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /publish", s.handlePublish)
	mux.HandleFunc("GET /metrics", s.handleMetrics)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	s.admin = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.admin.Serve(aln) }()
	s.wg.Go(s.acceptLoop)
	return s, nil
}

// Addr is the public listener's address; AdminAddr the internal one's.
func (s *Server) Addr() net.Addr      { return s.ln.Addr() }
func (s *Server) AdminAddr() net.Addr { return s.adminLn.Addr() }

// Close stops the listeners, closes every connection and returns when
// their goroutines have finished.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	err := s.ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.admin.Shutdown(ctx)
	for _, c := range conns {
		_ = c.nc.Close()
	}
	s.wg.Wait()
	return err
}

func (s *Server) acceptLoop() {
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return // closed
		}
		s.wg.Go(func() { s.serve(nc) })
	}
}

// serve upgrades nc and reads its commands until it closes.
func (s *Server) serve(nc net.Conn) {
	defer nc.Close()
	br := bufio.NewReaderSize(nc, 1024)
	_ = nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := handshake(br)
	if err != nil {
		_, _ = nc.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
		return
	}
	_ = nc.SetReadDeadline(time.Time{})
	c := &conn{s: s, nc: nc, subs: map[string]*channel{}}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	s.nConns.Add(1)
	s.accepted.Add(1)
	defer c.leave()
	if c.write(resp) != nil {
		return
	}
	var buf []byte
	for {
		op, p, err := readFrame(br, buf)
		if err != nil {
			switch {
			case errors.Is(err, errFrameTooBig):
				_ = c.writeClose(1009, "message too big")
			case errors.Is(err, errUnmasked), errors.Is(err, errFragmented):
				_ = c.writeClose(1002, "protocol error")
			}
			return
		}
		if cap(p) > cap(buf) {
			buf = p[:0]
		}
		switch op {
		case opText:
			c.command(p)
		case opPing:
			_ = c.write(serverFrame(opPong, p))
		case opPong:
		case opClose:
			code := 1000
			if len(p) >= 2 {
				code = int(binary.BigEndian.Uint16(p))
			}
			_ = c.writeClose(code, "")
			return
		default:
			_ = c.writeClose(1003, "unsupported opcode")
			return
		}
	}
}

// write sends b with one Write: one write(2) while the socket has room.
// A failed write closes the connection (its goroutine then cleans up).
func (c *conn) write(b []byte) error {
	c.wmu.Lock()
	n, err := c.nc.Write(b)
	c.wmu.Unlock()
	c.s.writes.Add(1)
	c.s.bytesOut.Add(uint64(n))
	if err != nil {
		c.s.closedByErr.Add(1)
		_ = c.nc.Close()
	}
	return err
}

func (c *conn) writeClose(code int, reason string) error {
	p := binary.BigEndian.AppendUint16(nil, uint16(code))
	return c.write(serverFrame(opClose, append(p, reason...)))
}

// leave removes the connection from its channels and the server.
func (c *conn) leave() {
	for _, ch := range c.subs {
		c.s.unsubscribe(ch, c)
	}
	c.s.nSubs.Add(-int64(len(c.subs)))
	c.subs = nil
	c.s.mu.Lock()
	delete(c.s.conns, c)
	c.s.mu.Unlock()
	c.s.nConns.Add(-1)
}

// command is a client command (PROTOCOL.md, "Frames, client to server").
type command struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Data struct {
		Channels []string `json:"channels"`
	} `json:"data"`
}

type rejection struct {
	Channel string `json:"channel"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

type ack struct {
	Type         string      `json:"type"`
	ID           string      `json:"id,omitempty"`
	Subscribed   []string    `json:"subscribed,omitempty"`
	Unsubscribed []string    `json:"unsubscribed,omitempty"`
	Rejected     []rejection `json:"rejected,omitempty"`
	Count        int         `json:"count"`
}

type pong struct {
	Type string `json:"type"`
	ID   string `json:"id,omitempty"`
	TS   int64  `json:"ts"`
}

type errorFrame struct {
	Type    string `json:"type"`
	ID      string `json:"id,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// command handles one text frame of the connection's goroutine.
func (c *conn) command(p []byte) {
	var cmd command
	if err := json.Unmarshal(p, &cmd); err != nil || cmd.Type == "" {
		c.writeJSON(errorFrame{Type: "error", Code: "BAD_REQUEST", Message: "not a command"})
		return
	}
	switch cmd.Type {
	case "subscribe", "unsubscribe":
		a := ack{Type: "subscription_ack", ID: cmd.ID}
		if cmd.Type == "unsubscribe" {
			a.Type = "unsubscription_ack"
		}
		for _, name := range cmd.Data.Channels {
			if !validChannel(name) {
				a.Rejected = append(a.Rejected, rejection{name, "INVALID_CHANNEL", "not a concrete channel name"})
				continue
			}
			if cmd.Type == "subscribe" {
				if _, ok := c.subs[name]; !ok {
					c.subs[name] = c.s.subscribe(name, c)
					c.s.nSubs.Add(1)
				}
				a.Subscribed = append(a.Subscribed, name)
			} else if ch, ok := c.subs[name]; ok {
				c.s.unsubscribe(ch, c)
				delete(c.subs, name)
				c.s.nSubs.Add(-1)
				a.Unsubscribed = append(a.Unsubscribed, name)
			}
		}
		if cmd.Type == "subscribe" && a.Subscribed == nil {
			a.Subscribed = []string{}
		}
		a.Count = len(c.subs)
		c.writeJSON(a)
	case "heartbeat":
		c.writeJSON(pong{Type: "pong", ID: cmd.ID, TS: time.Now().UnixMilli()})
	default:
		c.writeJSON(errorFrame{Type: "error", ID: cmd.ID, Code: "BAD_REQUEST", Message: "unknown type"})
	}
}

func (c *conn) writeJSON(v any) {
	b, _ := json.Marshal(v)
	_ = c.write(serverFrame(opText, b))
}

// channelFor returns the named channel, created on first use. Channels
// stay for the server's life, so their seq never restarts.
func (s *Server) channelFor(name string) *channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.chans[name]
	if ch == nil {
		ch = &channel{name: name, pos: map[*conn]int{}}
		s.chans[name] = ch
	}
	return ch
}

func (s *Server) subscribe(name string, c *conn) *channel {
	ch := s.channelFor(name)
	ch.mu.Lock()
	ch.pos[c] = len(ch.subs)
	ch.subs = append(ch.subs, c)
	if len(ch.subs) == 1 {
		s.nChans.Add(1)
	}
	ch.mu.Unlock()
	return ch
}

func (s *Server) unsubscribe(ch *channel, c *conn) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	i, ok := ch.pos[c]
	if !ok {
		return
	}
	last := len(ch.subs) - 1
	ch.subs[i] = ch.subs[last]
	ch.pos[ch.subs[i]] = i
	ch.subs[last] = nil
	ch.subs = ch.subs[:last]
	delete(ch.pos, c)
	if last == 0 {
		s.nChans.Add(-1)
	}
}

// publish gives data the channel's next seq, builds its frame once and
// writes it to every subscriber, one Write each, from this goroutine.
func (s *Server) publish(name string, data []byte) {
	ch := s.channelFor(name)
	ch.mu.Lock()
	defer ch.mu.Unlock()
	ch.seq++
	frame := messageFrame(name, ch.seq, time.Now().UnixMilli(), data)
	s.publications.Add(1)
	for _, c := range ch.subs {
		_ = c.write(frame)
	}
	s.deliveries.Add(uint64(len(ch.subs)))
}
