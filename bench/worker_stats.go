package main

// emit sends a snapshot to out. Snapshots are taken and sent under one
// lock, so out sees the cumulative counters in order.
func (w *worker) emit(out chan<- snapshot, event string, fin *command) {
	w.snapMu.Lock()
	defer w.snapMu.Unlock()
	s := w.snapshot(event)
	if fin != nil {
		acc := fin.Accepted
		if acc == nil {
			acc = map[string]uint64{}
		}
		s.Loss = w.loss(acc, fin.Last, fin.ObserversOnly)
	}
	out <- s
}

// snapshot reads the counters and takes the interval histograms. snapMu
// must be held.
func (w *worker) snapshot(event string) snapshot {
	s := snapshot{
		Worker: w.id, Event: event,
		Target: w.target.Load(), Dialed: w.dialed.Load(), Connected: w.connected.Load(),
		Failed: w.failed.Load(), Acked: w.acked.Load(), Rejected: w.rejected.Load(), Open: w.open.Load(),
		Reads: w.reads.Load(), BytesIn: w.bytesIn.Load(),
		ErrorFrames: w.errorFrames.Load(), OtherFrames: w.otherFrames.Load(),
		ChurnDone: w.churnDone.Load(), ChurnFailed: w.churnFailed.Load(),
		Dropped: w.dropped.Load(), RedialDone: w.redialDone.Load(), RedialFailed: w.redialFailed.Load(),
	}
	for i := range w.shards {
		sh := &w.shards[i]
		sh.mu.Lock()
		w.tmpHist.Merge(sh.hist)
		sh.hist.Reset()
		w.tmpObs.Merge(sh.obsHist)
		sh.obsHist.Reset()
		s.ObsReceived += sh.obsReceived
		s.Received += sh.received
		s.NoTS += sh.noTS
		s.UnknownChan += sh.unknownChan
		sh.mu.Unlock()
	}
	s.Lat = encodeHist(w.tmpHist)
	w.tmpHist.Reset()
	s.Obs = encodeHist(w.tmpObs)
	w.tmpObs.Reset()
	w.mu.Lock()
	s.Conn = encodeHist(w.connHist)
	w.connHist.Reset()
	s.FailReasons = cloneCounts(w.failReasons)
	s.FailLog = append([]string(nil), w.failLog...)
	s.Closes = cloneCounts(w.closes)
	s.CloseLog = append([]string(nil), w.closeLog...)
	all := w.conns
	w.mu.Unlock()
	// Seq gaps live per connection; summing them here keeps the receive
	// path free of shared counters.
	for _, c := range all {
		c.sh.mu.Lock()
		for j := range c.chans {
			s.Gaps += int64(c.chans[j].gaps)
			s.Dups += int64(c.chans[j].dups)
		}
		c.sh.mu.Unlock()
	}
	return s
}

// loss sums the loss accounting of the connections still open; with
// observersOnly, of the observers only (storm: the others left and came
// back, so they missed publications on purpose). last, when not nil, is
// the last value published on each channel, which every subscriber's last
// message must carry.
func (w *worker) loss(accepted map[string]uint64, last map[string]int64, observersOnly bool) *lossTotals {
	all := w.slots(nil)
	t := &lossTotals{}
	for _, c := range all {
		if !c.isOpen.Load() {
			continue // never connected, or closed by the server: reported as closes
		}
		if observersOnly && !c.observer {
			continue
		}
		c.sh.mu.Lock()
		t.addConn(c.chans, accepted, last, w.conf)
		c.sh.mu.Unlock()
	}
	return t
}
