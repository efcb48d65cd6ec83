package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"wsfan/codec"
)

// The JetStream benchmarks run an embedded NATS server with JetStream (file
// store in a temp dir, R1) on loopback, in the benchmark's process, with
// 100-byte data (jsPayload). ns/op is per publication; B/op and allocs/op
// count the whole process, the NATS server's work included.
//
//	flock /tmp/wsfan-bench.lock go test -run '^$' -bench 'Stream|CorePublish|SeqCache' -benchtime 2000x ./cluster

// BenchmarkStreamPublish measures Stream.Publish until acknowledged:
// channels=1 is one channel (each publication checked against the one
// before: sequential), channels=100 spreads a request over 100 channels;
// mode atomic is one atomic batch per request, each is message by message
// (channels in parallel); nodes=3 is three nodes publishing back to back
// on the same channel (conflicts retried; failed/op counts the
// publications that failed with ErrUnavailable after 64 conflicts).
func BenchmarkStreamPublish(b *testing.B) {
	for _, bc := range []struct {
		channels, batch, nodes int
		atomic                 bool
	}{
		{1, 1, 1, false},
		{1, 100, 1, true},
		{1, 100, 1, false},
		{100, 100, 1, true},
		{100, 100, 1, false},
		{1, 1, 3, false},
		{3, 1, 3, false},
	} {
		mode := "each"
		if bc.atomic {
			mode = "atomic"
		}
		name := fmt.Sprintf("channels=%d/batch=%d/%s/nodes=%d", bc.channels, bc.batch, mode, bc.nodes)
		b.Run(name, func(b *testing.B) { benchStreamPublish(b, bc.channels, bc.batch, bc.nodes, bc.atomic) })
	}
}

func benchStreamPublish(b *testing.B, channels, batch, nodes int, atomicBatch bool) {
	ns := runJetStream(b, -1, b.TempDir())
	streams := make([]*Stream, nodes)
	for i := range streams {
		streams[i] = openStream(b, jsConfig(ns), nil)
		streams[i].batch = batchNever
		if atomicBatch {
			streams[i].batch = batchAlways
		}
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	var failed atomic.Int64
	for n, s := range streams {
		wg.Go(func() {
			pubs := make([]Pub, batch)
			for i := range pubs {
				// With 3 nodes and 3 channels each node has its own.
				ch := (i + n) % channels
				pubs[i] = Pub{Channel: "bench." + strconv.Itoa(ch), Data: jsPayload()}
			}
			for done := 0; done < b.N/nodes; done += batch {
				k := min(batch, b.N/nodes-done)
				if err := s.Publish(ctx, pubs[:k]); errors.Is(err, ErrUnavailable) && nodes > 1 {
					failed.Add(int64(k))
				} else if err != nil {
					panic(err)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	var conflicts uint64
	for _, s := range streams {
		conflicts += s.Stats().Conflicts
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(conflicts)/float64(b.N), "conflicts/op")
	if nodes > 1 {
		b.ReportMetric(float64(failed.Load())/float64(b.N), "failed/op")
	}
}

// BenchmarkCorePublish is the reference: Bridge.Publish (core NATS, a PING
// after the batch) against the same server, nobody subscribed.
func BenchmarkCorePublish(b *testing.B) {
	for _, batch := range []int{1, 100} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			ns := runJetStream(b, -1, b.TempDir())
			br := connect(b, testConfig(ns, InterestPerChannel), nil)
			pubs := make([]codec.Publication, batch)
			for i := range pubs {
				pubs[i] = codec.Publication{Channel: "bench." + strconv.Itoa(i), Data: jsPayload()}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for done := 0; done < b.N; done += batch {
				if err := br.Publish(pubs[:min(batch, b.N-done)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStreamLatency measures publish-to-deliver through the stream:
// one node publishes one publication at a time on one channel, another
// node delivers it. p50/p99 are from just before Publish to DeliverSeq.
func BenchmarkStreamLatency(b *testing.B) {
	ns := runJetStream(b, -1, b.TempDir())
	n := b.N
	lat := make([]time.Duration, 0, n)
	done := make(chan struct{})
	deliver := func(_ string, _ uint64, _ int64, data []byte) {
		lat = append(lat, stampAge(data))
		if len(lat) == n {
			close(done)
		}
	}
	openStream(b, jsConfig(ns), deliver)
	pub := openStream(b, jsConfig(ns), nil)
	p := []Pub{{Channel: "token.BTC.trade", Data: jsPayload()}}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range n {
		writeStamp(p[0].Data, time.Now().UnixNano()) // Publish does not keep the data
		if err := pub.Publish(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
	<-done
	b.StopTimer()
	slices.Sort(lat)
	pct := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Nanoseconds()) / 1e3 }
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}

// BenchmarkStreamSince measures Since of the 100 publications a channel's
// window holds (max_msgs_per_channel 100), on a node that did not deliver
// them, and of 10 of them.
func BenchmarkStreamSince(b *testing.B) {
	ns := runJetStream(b, -1, b.TempDir())
	cfg := jsConfig(ns)
	cfg.JetStream.MaxMsgsPerChannel = 100
	s := openStream(b, cfg, nil)
	ctx := context.Background()
	pubs := make([]Pub, 100)
	for i := range pubs {
		pubs[i] = Pub{Channel: "token.BTC.trade", Data: jsPayload()}
	}
	for range 2 { // 200 published, the last 100 kept
		if err := s.Publish(ctx, pubs); err != nil {
			b.Fatal(err)
		}
	}
	last := s.seqs.last("token.BTC.trade").seq
	r := openStream(b, cfg, nil)
	for _, missed := range []int{100, 10} {
		b.Run(fmt.Sprintf("missed=%d", missed), func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				msgs, ok, err := r.Since(ctx, "token.BTC.trade", last-uint64(missed), 0)
				if err != nil || !ok || len(msgs) != missed {
					b.Fatalf("Since: %d, %v, %v", len(msgs), ok, err)
				}
			}
		})
	}
}

// BenchmarkSeqCacheMemory reports what the per-channel cache costs a node
// per channel it delivered or published (B/channel), for 100,000 channels.
func BenchmarkSeqCacheMemory(b *testing.B) {
	const n = 100_000
	names := make([]string, n)
	for i := range names {
		names[i] = "token." + strconv.Itoa(i) + ".trade"
	}
	var per float64
	for range b.N {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		c := newSeqCache()
		for i, ch := range names {
			c.setDelivered(ch, known{uint64(i + 1), 7}, int64(i))
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		per = float64(after.HeapAlloc-before.HeapAlloc) / n
		runtime.KeepAlive(c)
	}
	b.ReportMetric(per, "B/channel")
}

// jsPayload is benchPayload stamped with the time: valid JSON (the
// unstamped zeros are not), so that every node delivers it.
func jsPayload() []byte {
	d := benchPayload()
	writeStamp(d, time.Now().UnixNano())
	return d
}

// runJetStreamCluster starts three embedded NATS servers with JetStream in
// one NATS cluster (routes on loopback) and returns them once JetStream has
// a meta leader.
func runJetStreamCluster(b *testing.B) []*server.Server {
	b.Helper()
	ports := make([]int, 3)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		ports[i] = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	routes := server.RoutesFromStr(fmt.Sprintf("nats://127.0.0.1:%d,nats://127.0.0.1:%d,nats://127.0.0.1:%d",
		ports[0], ports[1], ports[2]))
	servers := make([]*server.Server, 3)
	for i := range servers {
		ns, err := server.NewServer(&server.Options{
			ServerName: fmt.Sprintf("nats-%d", i),
			Host:       "127.0.0.1",
			Port:       -1,
			NoLog:      true,
			NoSigs:     true,
			JetStream:  true,
			StoreDir:   b.TempDir(),
			Cluster:    server.ClusterOpts{Name: "wsfan", Host: "127.0.0.1", Port: ports[i]},
			Routes:     routes,
		})
		if err != nil {
			b.Fatal(err)
		}
		ns.Start()
		b.Cleanup(ns.Shutdown)
		servers[i] = ns
	}
	poll(b, "a JetStream meta leader", func() bool {
		for _, ns := range servers {
			if ns.JetStreamIsLeader() {
				return true
			}
		}
		return false
	})
	return servers
}

// BenchmarkStreamPublishR3 is BenchmarkStreamPublish's single-node cases on
// an R3 stream of a three-server NATS cluster (all in this process on the
// machine's cores), the publishing node on one server, the other
// delivering on another; latency as BenchmarkStreamLatency.
func BenchmarkStreamPublishR3(b *testing.B) {
	servers := runJetStreamCluster(b)
	cfg := func(ns *server.Server) Config {
		c := jsConfig(ns)
		c.JetStream.Replicas = 3
		return c
	}
	for _, bc := range []struct {
		channels, batch int
		atomic          bool
	}{{1, 1, false}, {1, 100, true}, {1, 100, false}, {100, 100, true}, {100, 100, false}} {
		mode := "each"
		if bc.atomic {
			mode = "atomic"
		}
		b.Run(fmt.Sprintf("channels=%d/batch=%d/%s", bc.channels, bc.batch, mode), func(b *testing.B) {
			n := b.N
			var lat []time.Duration
			done := make(chan struct{})
			deliver := func(_ string, _ uint64, _ int64, data []byte) {
				lat = append(lat, stampAge(data))
				if len(lat) == n {
					close(done)
				}
			}
			sub := openStream(b, cfg(servers[1]), deliver)
			s := openStream(b, cfg(servers[0]), nil)
			s.batch = batchNever
			if bc.atomic {
				s.batch = batchAlways
			}
			pubs := make([]Pub, bc.batch)
			for i := range pubs {
				pubs[i] = Pub{Channel: "r3." + strconv.Itoa(i%bc.channels), Data: jsPayload()}
			}
			ctx := context.Background()
			b.ResetTimer()
			start := time.Now()
			for done := 0; done < n; done += bc.batch {
				k := min(bc.batch, n-done)
				now := time.Now().UnixNano()
				for i := range k {
					writeStamp(pubs[i].Data, now)
				}
				if err := s.Publish(ctx, pubs[:k]); err != nil {
					b.Fatal(err)
				}
			}
			<-done
			elapsed := time.Since(start)
			b.StopTimer()
			sub.Close()
			s.Close()
			slices.Sort(lat)
			b.ReportMetric(float64(n)/elapsed.Seconds(), "msgs/s")
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
		})
	}
}
