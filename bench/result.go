package main

import (
	"runtime"
	"time"
)

// result is everything a run measured; -json prints it as is.
type result struct {
	Label        string            `json:"label"`
	Scenario     string            `json:"scenario"`
	Options      *options          `json:"options"`
	Machine      machine           `json:"machine"`
	Started      time.Time         `json:"started"`
	Elapsed      float64           `json:"elapsed_s"`
	Server       serverInfo        `json:"server"`
	WritesSource string            `json:"writes_source"`
	Stages       []stageResult     `json:"stages"`
	Publish      *publishResult    `json:"publish,omitempty"`
	Hot          *hotResult        `json:"hot,omitempty"`
	Churn        *churnResult      `json:"churn,omitempty"`
	Storm        *stormResult      `json:"storm,omitempty"`
	Conflation   *conflationResult `json:"conflation,omitempty"`
	Loss         *lossTotals       `json:"loss,omitempty"`
	LossScope    string            `json:"loss_scope,omitempty"`    // "observers": loss counted on them only
	Closes       map[string]int64  `json:"server_closes,omitempty"` // closes the clients did not ask for, by code and reason
	CloseLog     []string          `json:"server_close_log,omitempty"`
	FailReasons  map[string]int64  `json:"connect_failures,omitempty"`
	FailLog      []string          `json:"connect_failure_log,omitempty"`
	PubErrors    map[string]int64  `json:"publish_errors,omitempty"`
	ErrorFrames  int64             `json:"error_frames"`
	End          *endResult        `json:"end,omitempty"`
	Notes        []string          `json:"notes,omitempty"`
	Series       []point           `json:"series"`
}

type machine struct {
	CPUs       int    `json:"cpus"`
	GoVersion  string `json:"go"`
	ServerCPUs string `json:"server_cpus"`
	LoadCPUs   string `json:"load_cpus"`
}

type serverInfo struct {
	Target     string `json:"target"` // wsfan or raw
	PID        int    `json:"pid"`
	Spawned    bool   `json:"spawned"`
	RSSStartKB int64  `json:"rss_start_kb"`
}

// stageResult is one ramp to a connection target, then a settle.
type stageResult struct {
	Target         int     `json:"target"`
	Connected      int64   `json:"connected"` // subscribed (acked) during the ramp
	Failed         int64   `json:"failed"`
	Open           int64   `json:"open"`
	Seconds        float64 `json:"seconds"`
	ConnectsPerSec float64 `json:"connects_per_s"`
	ConnectLatency latency `json:"connect_latency"` // dial start to subscription ack
	cores
	ServerRSSKB int64   `json:"server_rss_kb"` // after the settle
	KBPerConn   float64 `json:"kb_per_conn"`   // (RSS - RSS at start) / open
	HeapInuseKB int64   `json:"heap_inuse_kb"` // go_memstats_heap_inuse_bytes, if exported
	LoadRSSKB   int64   `json:"load_rss_kb"`   // all load processes
}

// publishResult is a constant-rate publishing phase, then the drain.
type publishResult struct {
	Seconds         float64 `json:"seconds"` // publishing window
	DrainSeconds    float64 `json:"drain_seconds"`
	RateTarget      float64 `json:"rate_target"`
	PubsPerSec      float64 `json:"pubs_per_s"` // accepted
	PubFailed       int64   `json:"pub_failed"`
	ExpectedPerSec  float64 `json:"expected_per_s"`
	DeliveredPerSec float64 `json:"delivered_per_s"` // received by the clients in the window
	Expected        int64   `json:"expected"`        // owed by the publications of the phase
	Received        int64   `json:"received"`        // window + drain
	cores
	CPUPerDeliveryUS   float64 `json:"server_cpu_us_per_delivery"`
	ServerWritesPerSec float64 `json:"server_writes_per_s"`
	SyscallsPerSec     float64 `json:"server_write_syscalls_per_s"`
	DeliveriesPerWrite float64 `json:"deliveries_per_write"`
	ServerBytesPerSec  float64 `json:"server_bytes_out_per_s"`
	// ServerWrittenPerSec is deliveries/s the server handed to the kernel in
	// the window (bytes out / MeanFrameBytes): above DeliveredPerSec, the
	// clients fell behind the server.
	ServerWrittenPerSec float64 `json:"server_written_per_s"`
	MeanFrameBytes      float64 `json:"mean_frame_bytes"`
	ServerDeliveries    float64 `json:"server_deliveries"` // wsfan_deliveries_total delta (enqueued)
	ClientReadsPerSec   float64 `json:"client_reads_per_s"`
	FramesPerRead       float64 `json:"frames_per_read"`
	LoadPerDeliveryUS   float64 `json:"load_cpu_us_per_delivery"`
	Latency             latency `json:"latency"`
	SlowConsumerCloses  int64   `json:"slow_consumer_closes"`
}

// hotStep is one rate step of the hot scenario.
type hotStep struct {
	Rate            float64 `json:"rate"`
	PubsPerSec      float64 `json:"pubs_per_s"`
	ExpectedPerSec  float64 `json:"expected_per_s"`
	DeliveredPerSec float64 `json:"delivered_per_s"`
	Ratio           float64 `json:"ratio"`
	WrittenPerSec   float64 `json:"server_written_per_s"` // bytes out / mean frame size
	cores
	ServerWritesPerSec float64 `json:"server_writes_per_s"`
	DeliveriesPerWrite float64 `json:"deliveries_per_write"`
	Latency            latency `json:"latency"`
	SlowConsumerCloses int64   `json:"slow_consumer_closes"`
	KeptUp             bool    `json:"kept_up"`
	Why                string  `json:"why,omitempty"` // why it did not keep up
}

type hotResult struct {
	Steps []hotStep `json:"steps"`
	// PeakDeliveredPerSec is the most deliveries/s any step received: the
	// saturation point when the last step did not keep up.
	PeakDeliveredPerSec float64 `json:"peak_delivered_per_s"`
	// SustainedPerSec is the last step that kept up.
	SustainedPerSec float64 `json:"sustained_delivered_per_s"`
	Saturated       bool    `json:"saturated"`
	Drain           float64 `json:"drain_seconds"`
}

type churnResult struct {
	Reconnects     int64   `json:"reconnects"`
	Failed         int64   `json:"failed"`
	Seconds        float64 `json:"seconds"`
	PerSec         float64 `json:"reconnects_per_s"`
	ConnectLatency latency `json:"connect_latency"`
	cores
}

// endResult is the server after every connection left.
type endResult struct {
	Connections   float64 `json:"connections"`
	Subscriptions float64 `json:"subscriptions"`
	Channels      float64 `json:"channels"`
	Zero          bool    `json:"zero"`
	ZeroAfter     float64 `json:"zero_after_s"` // after the last close was acknowledged
	ServerRSSKB   int64   `json:"server_rss_kb"`
	SlowConsumers float64 `json:"server_slow_consumer_disconnects"`
}

// point is one sample of the time series.
type point struct {
	T               float64 `json:"t"`
	Phase           string  `json:"phase"`
	Open            int64   `json:"open"`
	ConnectsPerSec  float64 `json:"connects_per_s"` // subscribed (acked) connections per second
	PubsPerSec      float64 `json:"pubs_per_s"`
	ExpectedPerSec  float64 `json:"expected_per_s"`
	DeliveredPerSec float64 `json:"delivered_per_s"`
	P50             float64 `json:"p50_ms"`
	P99             float64 `json:"p99_ms"`
	P999            float64 `json:"p999_ms"`
	Max             float64 `json:"max_ms"`
	cores
	ServerRSSMB       float64 `json:"server_rss_mb"`
	WritesPerSec      float64 `json:"server_writes_per_s"`
	ServerBytesPerSec float64 `json:"server_bytes_out_per_s"`
	ClientBytesPerSec float64 `json:"client_bytes_in_per_s"`
	SyscallsPerSec    float64 `json:"server_write_syscalls_per_s"`
	ReadsPerSec       float64 `json:"client_reads_per_s"`
}

func newResult(o *options) *result {
	return &result{
		Label: o.Label, Scenario: o.Scenario, Options: o, Started: time.Now(),
		Machine: machine{CPUs: machineCPUs(), GoVersion: runtime.Version(), ServerCPUs: o.ServerCPUs, LoadCPUs: o.LoadCPUs},
	}
}

// rates between two marks.
type span struct{ a, b mark }

func (s span) secs() float64 { return s.b.at.Sub(s.a.at).Seconds() }

func (s span) per(f func(m mark) int64) float64 {
	if d := s.secs(); d > 0 {
		return float64(f(s.b)-f(s.a)) / d
	}
	return 0
}

func (s span) delta(f func(m mark) int64) int64 { return f(s.b) - f(s.a) }

// serverCPU is the server's CPU seconds between the marks: from its CPU
// clock (ns resolution) when both marks have it, else from /proc ticks.
// cores is where a span's CPU went, in cores (CPU seconds per second).
type cores struct {
	ServerCores  float64   `json:"server_cores"`
	LoadCores    float64   `json:"load_cores"`    // all load processes
	MachineCores float64   `json:"machine_cores"` // every CPU's busy time
	SoftirqCores float64   `json:"softirq_cores"` // ksoftirqd threads
	IRQCores     float64   `json:"irq_cores"`     // interrupt context
	OtherCores   float64   `json:"other_cores"`   // machine - server - load - softirq
	CPUBusy      []float64 `json:"cpu_busy"`      // per CPU, 0..1
}

// cores is the span's CPU use.
func (s span) cores() cores {
	return cores{
		ServerCores:  s.serverCores(),
		LoadCores:    s.loadCores(),
		MachineCores: s.machineCores(),
		SoftirqCores: s.softirqCores(),
		IRQCores:     s.irqCores(),
		OtherCores:   s.otherCores(),
		CPUBusy:      s.cpuBusy(),
	}
}

func (s span) serverCPU() float64 {
	if !s.a.srvOK || !s.b.srvOK {
		return 0
	}
	if s.a.srv.CPUClock >= 0 && s.b.srv.CPUClock >= 0 {
		return s.b.srv.CPUClock - s.a.srv.CPUClock
	}
	return s.b.srv.CPUSeconds - s.a.srv.CPUSeconds
}

func (s span) serverCores() float64 {
	if d := s.secs(); d > 0 {
		return s.serverCPU() / d
	}
	return 0
}

func (s span) loadCores() float64 {
	if d := s.secs(); d > 0 {
		return (s.b.loadCPU - s.a.loadCPU) / d
	}
	return 0
}

// cpuBusy returns each CPU's busy cores between the marks (1 = busy all
// the time), from /proc/stat: it sees what the process counters miss,
// such as loopback softirq work run by ksoftirqd, and other processes.
func (s span) cpuBusy() []float64 {
	if len(s.a.cpus) == 0 || len(s.a.cpus) != len(s.b.cpus) {
		return nil
	}
	out := make([]float64, len(s.a.cpus))
	for i := range out {
		if dt := s.b.cpus[i].Total - s.a.cpus[i].Total; dt > 0 {
			out[i] = (s.b.cpus[i].Busy - s.a.cpus[i].Busy) / dt
		}
	}
	return out
}

// machineCores is the sum of cpuBusy.
func (s span) machineCores() float64 {
	sum := 0.0
	for _, v := range s.cpuBusy() {
		sum += v
	}
	return sum
}

// softirqCores is the CPU of the ksoftirqd threads: loopback work the
// kernel deferred, charged to neither the server nor the load.
func (s span) softirqCores() float64 {
	if d := s.secs(); d > 0 {
		return (s.b.softirqCPU - s.a.softirqCPU) / d
	}
	return 0
}

// irqCores is the machine's time in interrupt context (/proc/stat irq +
// softirq): mostly loopback packet processing. On this kernel it is also
// in the runtime of the process the interrupt landed on (server + load +
// irq exceeds the machine's busy time), so it is shown, not subtracted:
// on loopback, the server's CPU includes part of the clients' receive
// path and the load's CPU part of the server's.
func (s span) irqCores() float64 {
	if len(s.a.cpus) == 0 || len(s.a.cpus) != len(s.b.cpus) {
		return 0
	}
	sum := 0.0
	for i := range s.a.cpus {
		if dt := s.b.cpus[i].Total - s.a.cpus[i].Total; dt > 0 {
			sum += (s.b.cpus[i].IRQ - s.a.cpus[i].IRQ) / dt
		}
	}
	return sum
}

// otherCores is machine CPU that neither the server, the load processes
// nor ksoftirqd account for: other processes on the machine. Much of it
// means the run was disturbed.
func (s span) otherCores() float64 {
	return max(0, s.machineCores()-s.serverCores()-s.loadCores()-s.softirqCores())
}

// serverWrites is the server's socket writes between the marks: its own
// counter when it exports one, else its write syscalls; -1 unknown.
func (s span) serverWrites() int64 {
	if s.a.metOK && s.b.metOK && s.a.sockWrites >= 0 && s.b.sockWrites >= 0 {
		return int64(s.b.sockWrites - s.a.sockWrites)
	}
	return s.syscallWrites()
}

// syscallWrites is the server's write(2)-family calls between the marks
// (/proc/<pid>/io syscw: sockets, but also logs, HTTP answers and the Go
// runtime's wakeups); -1 unknown.
func (s span) syscallWrites() int64 {
	if !s.a.srvOK || !s.b.srvOK || s.a.srv.WriteCalls < 0 || s.b.srv.WriteCalls < 0 {
		return -1
	}
	return s.b.srv.WriteCalls - s.a.srv.WriteCalls
}

// meanFrame is the mean bytes the clients read per delivery between the
// marks (frames of other kinds are few); 0 when nothing was delivered.
func (s span) meanFrame() float64 {
	return ratio(float64(s.delta(func(m mark) int64 { return m.load.BytesIn })), float64(s.delta(func(m mark) int64 { return m.load.Received })))
}

// writtenPerSec estimates the deliveries per second the server handed to
// the kernel: its bytes out (wsfan_bytes_out_total, counted as the kernel
// takes them) over the mean frame size frame. Next to the deliveries the
// clients received it tells which side fell behind.
func (s span) writtenPerSec(frame float64) float64 {
	if frame <= 0 || s.secs() <= 0 {
		return 0
	}
	return s.metricDelta(func(m mark) float64 { return m.bytesOut }) / frame / s.secs()
}

// metricDelta is a server metric's change between the marks.
func (s span) metricDelta(f func(m mark) float64) float64 {
	if !s.a.metOK || !s.b.metOK {
		return 0
	}
	return f(s.b) - f(s.a)
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// pointBetween is the time-series point for the interval a..b.
func pointBetween(a, b mark, start time.Time, phase string) point {
	s := span{a, b}
	p := point{
		T:                 b.at.Sub(start).Seconds(),
		Phase:             phase,
		Open:              b.load.Open,
		ConnectsPerSec:    s.per(func(m mark) int64 { return m.load.Acked }),
		PubsPerSec:        s.per(func(m mark) int64 { return m.pubAccepted }),
		ExpectedPerSec:    s.per(func(m mark) int64 { return m.expected }),
		DeliveredPerSec:   s.per(func(m mark) int64 { return m.load.Received }),
		cores:             s.cores(),
		ReadsPerSec:       s.per(func(m mark) int64 { return m.load.Reads }),
		ClientBytesPerSec: s.per(func(m mark) int64 { return m.load.BytesIn }),
		ServerBytesPerSec: s.metricDelta(func(m mark) float64 { return m.bytesOut }) / max(s.secs(), 1e-9),
	}
	if b.srvOK {
		p.ServerRSSMB = float64(b.srv.RSSKB) / 1024
	}
	if w := s.serverWrites(); w >= 0 && s.secs() > 0 {
		p.WritesPerSec = float64(w) / s.secs()
	}
	if w := s.syscallWrites(); w >= 0 && s.secs() > 0 {
		p.SyscallsPerSec = float64(w) / s.secs()
	}
	return p
}
