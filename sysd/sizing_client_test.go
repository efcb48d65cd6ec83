//go:build linux

package sysd

// The minimal WebSocket client of the sizing measurement (sizing_test.go):
// the upgrade request, masked client frames of at most 125 bytes, unmasked
// server frames, pong replies. It holds no per-connection state beyond the
// socket and a 1 KiB read buffer, so the client side stays small.

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// wsConn is one client connection of the minimal client.
type wsConn struct {
	c  net.Conn
	br *bufio.Reader
}

// dialAll opens n connections to addr with 64 dialers; connection i
// subscribes to channel(i) and waits for its ack.
func dialAll(t *testing.T, addr string, n int, channel func(int) string) []*wsConn {
	t.Helper()
	conns := make([]*wsConn, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 64 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				c, err := dialWS(addr, channel(i))
				if err != nil {
					errs <- fmt.Errorf("connection %d: %w", i, err)
					return
				}
				conns[i] = c
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		closeAll(conns)
		t.Fatal(err)
	}
	return conns
}

func closeAll(conns []*wsConn) {
	for _, c := range conns {
		if c != nil {
			c.c.Close()
		}
	}
}

func dialWS(addr, channel string) (*wsConn, error) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	req := "GET /ws HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		c.Close()
		return nil, err
	}
	br := bufio.NewReaderSize(c, 1024)
	status, err := br.ReadString('\n')
	if err != nil || !strings.Contains(status, " 101 ") {
		c.Close()
		return nil, fmt.Errorf("upgrade answered %q: %v", status, err)
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			c.Close()
			return nil, err
		}
		if line == "\r\n" {
			break
		}
	}
	ws := &wsConn{c: c, br: br}
	cmd := `{"type":"subscribe","id":"1","data":{"channels":["` + channel + `"]}}`
	if err := ws.write(0x1, []byte(cmd)); err != nil {
		c.Close()
		return nil, err
	}
	op, payload, err := ws.read()
	if err != nil || op != 0x1 || !strings.Contains(string(payload), `"subscription_ack"`) ||
		!strings.Contains(string(payload), `"count":1`) {
		c.Close()
		return nil, fmt.Errorf("subscribe answered op %d %q: %v", op, payload, err)
	}
	_ = c.SetDeadline(time.Time{})
	return ws, nil
}

// write sends one masked frame (client frames are masked, RFC 6455 5.3).
func (ws *wsConn) write(op byte, payload []byte) error {
	if len(payload) > 125 {
		return fmt.Errorf("frame of %d bytes: the minimal client sends at most 125", len(payload))
	}
	frame := make([]byte, 6+len(payload))
	frame[0] = 0x80 | op
	frame[1] = 0x80 | byte(len(payload))
	_, _ = rand.Read(frame[2:6])
	for i, b := range payload {
		frame[6+i] = b ^ frame[2+i%4]
	}
	_, err := ws.c.Write(frame)
	return err
}

// read reads one unmasked server frame.
func (ws *wsConn) read() (byte, []byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(ws.br, h[:]); err != nil {
		return 0, nil, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(ws.br, b[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(ws.br, b[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	payload := make([]byte, n)
	_, err := io.ReadFull(ws.br, payload)
	return h[0] & 0x0f, payload, err
}

// readLoop answers pings and counts data frames until the connection ends.
func (ws *wsConn) readLoop(received *atomic.Int64) {
	for {
		op, payload, err := ws.read()
		if err != nil {
			return
		}
		switch op {
		case 0x9:
			if ws.write(0xA, payload) != nil {
				return
			}
		case 0x1:
			received.Add(1)
		}
	}
}
