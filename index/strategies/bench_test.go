package strategies

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// The mixed workload's operations, in percent. A churn operation is one
// Subscribe or one Unsubscribe (about half each); a reconnect is a client
// with 3-5 subscriptions disconnecting (one RemoveAll) and a new one
// subscribing to 3-5 channels.
const (
	mixLookup    = 90
	mixChurn     = 8
	mixReconnect = 2
)

var (
	workloadOnce sync.Once
	workload     *Workload

	loadedMu sync.Mutex
	loaded   = map[string]Strategy{} // by Factory.Name, loaded with workload

	sink atomic.Int64
)

func getWorkload() *Workload {
	workloadOnce.Do(func() { workload = NewWorkload() })
	return workload
}

// loadedStrategy returns f's strategy loaded with the workload, built once
// per process: the benchmarks leave it as they found it.
func loadedStrategy(f Factory) Strategy {
	loadedMu.Lock()
	defer loadedMu.Unlock()
	s := loaded[f.Name]
	if s == nil {
		s = f.New()
		getWorkload().Load(s)
		loaded[f.Name] = s
	}
	return s
}

// benchFactories returns the five strategies, the production index counting
// lookups, and the shard sweep, without the production default twice.
func benchFactories() []Factory {
	fs := append(All(), StripedCounting())
	for _, f := range ShardSweep() {
		if f.Name != Striped(16).Name {
			fs = append(fs, f)
		}
	}
	return fs
}

func reportMeter(b *testing.B, m Meter, ops int) {
	cpu, ext := m.Stop(ops)
	b.ReportMetric(cpu, "cpu-ns/op")
	if ext >= 0 {
		b.ReportMetric(ext, "ext-%")
	}
}

// BenchmarkLookup looks up zipf-popular channels from every P at once.
func BenchmarkLookup(b *testing.B) {
	w := getWorkload()
	for _, f := range benchFactories() {
		b.Run(f.Name, func(b *testing.B) {
			s := loadedStrategy(f)
			var start atomic.Int64
			b.ReportAllocs()
			m := StartMeter()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := int(start.Add(7919)) & (OrderLen - 1)
				n := 0
				for pb.Next() {
					n += s.Walk(w.Lookups[w.Order[i]], nil)
					i = (i + 1) & (OrderLen - 1)
				}
				sink.Add(int64(n))
			})
			b.StopTimer()
			reportMeter(b, m, b.N)
		})
	}
}

// mixOps is the sequence of operations the mixed workload's workers walk,
// each from its own offset.
var mixOps = func() []uint8 {
	ops := make([]uint8, 0, 100)
	for i := range 100 {
		switch {
		case i < mixLookup:
			ops = append(ops, 0)
		case i < mixLookup+mixChurn:
			ops = append(ops, 1)
		default:
			ops = append(ops, 2)
		}
	}
	// Spread the writes: walk the 100 with a stride prime to 100.
	spread := make([]uint8, len(ops))
	for i := range ops {
		spread[i] = ops[(i*37)%len(ops)]
	}
	return spread
}()

// session is a benchmark client and its subscriptions.
type session struct {
	c    *Client
	subs []string
	want int // 3, 4 or 5
}

// BenchmarkMixed runs the mixed workload from every P at once: lookups,
// subscribe/unsubscribe churn and reconnects in the ratio 90:8:2, on top
// of the loaded 100,000 subscriptions. Each worker has 16 clients of its
// own and removes their subscriptions when done. Lookups always follow
// zipf popularity; the writes do too ("zipf"), or pick channels uniformly
// ("tail": about 10 subscribers each), which leaves out the cost of copying
// the top channel's snapshot and shows the index's own overhead.
func BenchmarkMixed(b *testing.B) {
	w := getWorkload()
	for _, writes := range writeOrders() {
		for _, f := range benchFactories() {
			b.Run(writes.name+"/"+f.Name, func(b *testing.B) {
				benchMixed(b, w, loadedStrategy(f), writes.order)
			})
		}
	}
}

// writeOrders returns the channel orders the writes of the mixed and
// disconnect workloads follow.
func writeOrders() []struct {
	name  string
	order []int
} {
	w := getWorkload()
	return []struct {
		name  string
		order []int
	}{{"zipf", w.Order}, {"tail", w.Uniform}}
}

func benchMixed(b *testing.B, w *Workload, s Strategy, writeOrder []int) {
	var start, ids atomic.Int64
	b.ReportAllocs()
	m := StartMeter()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		off := int(start.Add(7919))
		zi, wi, oi := off&(OrderLen-1), off&(OrderLen-1), off%len(mixOps)
		next := func() string {
			wi = (wi + 1) & (OrderLen - 1)
			return w.Names[writeOrder[wi]]
		}
		// A pool of clients, reused once disconnected, keeps allocation
		// out of the worker's own bookkeeping.
		pool := make([]Client, 256)
		for i := range pool {
			pool[i].ID = int(ids.Add(1)) + 1e7
		}
		pi := 0
		connect := func(want int) session {
			ss := session{c: &pool[pi%len(pool)], subs: make([]string, 0, 5), want: want}
			pi++
			for len(ss.subs) < want {
				if ch := next(); !contains(ss.subs, ch) && s.Subscribe(ch, ss.c) {
					ss.subs = append(ss.subs, ch)
				}
			}
			return ss
		}
		sessions := make([]session, 16)
		for i := range sessions {
			sessions[i] = connect(3 + i%3)
		}
		k, n := 0, 0
		for pb.Next() {
			oi++
			switch mixOps[oi%len(mixOps)] {
			case 0:
				zi = (zi + 1) & (OrderLen - 1)
				n += s.Walk(w.Lookups[w.Order[zi]], nil)
			case 1:
				k++
				ss := &sessions[k%len(sessions)]
				if len(ss.subs) < ss.want {
					if ch := next(); !contains(ss.subs, ch) && s.Subscribe(ch, ss.c) {
						ss.subs = append(ss.subs, ch)
					}
				} else {
					last := len(ss.subs) - 1
					s.Unsubscribe(ss.subs[last], ss.c)
					ss.subs = ss.subs[:last]
				}
			case 2:
				k++
				ss := &sessions[k%len(sessions)]
				s.RemoveAll(ss.c, ss.subs)
				*ss = connect(3 + k%3)
			}
		}
		for _, ss := range sessions {
			s.RemoveAll(ss.c, ss.subs)
		}
		sink.Add(int64(n))
	})
	b.StopTimer()
	reportMeter(b, m, b.N)
}

// BenchmarkDisconnect is the cost of one disconnect, a RemoveAll of a client
// with 3-5 subscriptions (4 on average), from the loaded index. Clients are
// subscribed in batches with the timer stopped. Their channels follow zipf
// popularity ("zipf": 4 in 10 clients hold the top channel, whose snapshot
// each removal copies) or are uniform ("tail").
func BenchmarkDisconnect(b *testing.B) {
	const batch = 1024
	w := getWorkload()
	for _, writes := range writeOrders() {
		for _, f := range benchFactories() {
			b.Run(writes.name+"/"+f.Name, func(b *testing.B) {
				s := loadedStrategy(f)
				clients := make([]Client, batch)
				lists := make([][]string, batch)
				zi := 0
				b.ReportAllocs()
				b.ResetTimer()
				for done := 0; done < b.N; {
					b.StopTimer()
					n := min(batch, b.N-done)
					for i := range n {
						lists[i] = lists[i][:0]
						for len(lists[i]) < 3+i%3 {
							zi = (zi + 1) & (OrderLen - 1)
							if ch := w.Names[writes.order[zi]]; !contains(lists[i], ch) {
								lists[i] = append(lists[i], ch)
								s.Subscribe(ch, &clients[i])
							}
						}
					}
					b.StartTimer()
					for i := range n {
						s.RemoveAll(&clients[i], lists[i])
					}
					done += n
				}
			})
		}
	}
}

// BenchmarkMemory reports the heap a strategy takes for the workload's
// 10,000 channels and 100,000 subscriptions, beyond the workload itself.
// Run it with -benchtime 1x; its ns/op means nothing.
func BenchmarkMemory(b *testing.B) {
	w := getWorkload()
	for _, f := range All() {
		b.Run(f.Name, func(b *testing.B) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			s := f.New()
			w.Load(s)
			runtime.GC()
			runtime.ReadMemStats(&after)
			for b.Loop() {
				sink.Add(int64(s.Walk(w.Names[0], nil)))
			}
			b.ReportMetric(float64(after.HeapAlloc)-float64(before.HeapAlloc), "heap-B")
			b.ReportMetric(0, "ns/op")
			runtime.KeepAlive(s)
			s.Close()
		})
	}
}
