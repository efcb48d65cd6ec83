package main

import (
	"time"
)

// closeWait bounds how long a client-side close waits for the server's
// answer before the socket is closed anyway.
const closeWait = 5 * time.Second

// closeConn sends a normal close and waits for the connection to go.
func (w *worker) closeConn(c *conn) {
	box := c.link.Load()
	att := c.att.Load()
	if box == nil || !c.isOpen.Load() {
		return
	}
	c.closing.Store(true)
	_ = box.l.writeClose(1000)
	t := time.NewTimer(closeWait)
	defer t.Stop()
	select {
	case <-att.closed:
	case <-t.C:
		_ = box.l.close()
		<-att.closed
	}
}

// closeAll closes every open connection, 64 at a time.
func (w *worker) closeAll() {
	all := w.slots(nil)
	forEach(len(all), 64, func(k int) { w.closeConn(all[k]) })
}
