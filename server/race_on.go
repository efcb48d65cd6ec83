//go:build race

package server

import (
	"net"
	"sync/atomic"

	"github.com/lesismal/nbio"
	"github.com/lesismal/nbio/nbhttp"
)

// nbio hands an accepted connection from its listener goroutine to a poller
// through epoll, which the race detector cannot see, so it reports the
// poller's first read of the connection's address as a race. This file,
// built only with -race, adds the happens-before edge the kernel already
// provides: the listener goroutine publishes (OnOpen) and the poller
// acquires (OnData) through one atomic.
var acceptEdge atomic.Uint64

func addRaceEdges(e *nbhttp.Engine) {
	e.OnOpen(func(net.Conn) { acceptEdge.Add(1) })
	e.Engine.OnData(func(c *nbio.Conn, data []byte) {
		acceptEdge.Load()
		c.DataHandler()(c, data)
	})
}
