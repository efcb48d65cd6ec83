package main

import "time"

// dropWait bounds how long drop waits for nbio to report the closed
// sockets.
const dropWait = 30 * time.Second

// drop closes, all at once, every open connection of this process that is
// not an observer, without a close handshake: the sockets are closed as a
// client process that dies or terminates them would (FIN, no close
// frame). It returns when nbio has reported each one closed.
func (w *worker) drop() {
	slots := w.slots(func(c *conn) bool { return !c.observer && c.isOpen.Load() && c.link.Load() != nil })
	for _, c := range slots {
		c.closing.Store(true) // ours, not a server-initiated close
	}
	for _, c := range slots {
		_ = c.link.Load().l.close()
	}
	t := time.NewTimer(dropWait)
	defer t.Stop()
	for _, c := range slots {
		select {
		case <-c.att.Load().closed:
		case <-t.C:
			return // the coordinator sees the open count
		}
	}
	w.dropped.Add(int64(len(slots)))
}

// redial connects again every slot of this process that is not an
// observer and is not open, unpaced (-in-flight at a time), each with its
// subscriptions, and returns when each one is subscribed or failed.
func (w *worker) redial() {
	slots := w.slots(func(c *conn) bool { return !c.observer && !c.isOpen.Load() })
	for _, c := range slots {
		c.closing.Store(false)
	}
	w.dialAll(len(slots), func(k int) *conn { return slots[k] }, 0, func(ok bool) {
		if ok {
			w.redialDone.Add(1)
		} else {
			w.redialFailed.Add(1)
		}
	})
}
