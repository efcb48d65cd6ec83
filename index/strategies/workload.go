package strategies

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// The workload's shape: the design point of docs/BENCHMARKS.md.
const (
	// Channels is the number of channels, ranked by popularity.
	Channels = 10000
	// Subscriptions is the number of (channel, client) pairs loaded: one
	// per channel, the rest drawn with zipf popularity.
	Subscriptions = 100000
	// SubsPerClient is how many subscriptions each loaded client holds.
	SubsPerClient = 4
	// ZipfS is the zipf exponent of channel popularity, for subscriptions
	// and for lookups alike. With s = 1.1 over 10,000 channels the top
	// channel draws about 11% of them, the top 100 about 60%.
	ZipfS = 1.1
	// OrderLen is the length of a precomputed sequence of zipf draws.
	OrderLen = 1 << 16
)

var events = []string{"trade", "liquidity", "orderbook", "ticker", "candles"}

// Workload is the data every benchmark loads: channel names by rank, the
// clients and their subscriptions, and zipf draws of channel ranks.
// It is built deterministically and never changed.
type Workload struct {
	Names   []string   // channel names; Names[0] is the most popular
	Lookups []string   // copies of Names, for lookups (see NewWorkload)
	Clients []*Client  // Subscriptions / SubsPerClient clients
	Lists   [][]string // Lists[i] is Clients[i]'s channels, distinct
	Order   []int      // OrderLen zipf draws in [0, Channels)
	Uniform []int      // OrderLen uniform draws in [0, Channels)
}

// NewWorkload builds the workload from a fixed seed.
func NewWorkload() *Workload {
	r := rand.New(rand.NewPCG(2024, 11))
	w := &Workload{Names: make([]string, 0, Channels)}
	seen := make(map[string]bool, Channels)
	for i := 0; len(w.Names) < Channels; i++ {
		// Random ids: a channel's rank says nothing about its shard.
		name := fmt.Sprintf("token.%04x.%s", r.IntN(1<<16), events[i%len(events)])
		if i%4 == 3 {
			name = fmt.Sprintf("user.%d.favorites", r.IntN(1e6))
		}
		if !seen[name] {
			seen[name] = true
			w.Names = append(w.Names, name)
		}
	}
	// A publication's channel name is freshly decoded, never the string a
	// subscriber gave. Lookups use copies: a map assignment to an existing
	// string key stores the caller's string as the key, and a lookup with
	// that very string would skip comparing the bytes.
	w.Lookups = make([]string, len(w.Names))
	for i, name := range w.Names {
		w.Lookups[i] = strings.Clone(name)
	}
	zipf := NewZipf(r)
	w.Order = make([]int, OrderLen)
	w.Uniform = make([]int, OrderLen)
	for i := range w.Order {
		w.Order[i] = zipf()
		w.Uniform[i] = r.IntN(Channels)
	}

	// Every channel gets one subscription; the rest follow popularity.
	channels := make([]int, 0, Subscriptions)
	for i := range Channels {
		channels = append(channels, i)
	}
	for len(channels) < Subscriptions {
		channels = append(channels, zipf())
	}
	r.Shuffle(len(channels), func(i, j int) { channels[i], channels[j] = channels[j], channels[i] })

	n := Subscriptions / SubsPerClient
	w.Clients = make([]*Client, n)
	w.Lists = make([][]string, n)
	for i := range w.Clients {
		w.Clients[i] = &Client{ID: i}
		list := make([]string, 0, SubsPerClient)
		for _, ch := range channels[i*SubsPerClient : (i+1)*SubsPerClient] {
			name := w.Names[ch]
			for contains(list, name) { // a client subscribes to a channel once
				name = w.Names[r.IntN(Channels)]
			}
			list = append(list, name)
		}
		w.Lists[i] = list
	}
	return w
}

// NewZipf returns a function drawing channel ranks in [0, Channels) with
// zipf popularity from r.
func NewZipf(r *rand.Rand) func() int {
	z := rand.NewZipf(r, ZipfS, 1, Channels-1)
	return func() int { return int(z.Uint64()) }
}

// Load subscribes every client of w to its channels in s.
func (w *Workload) Load(s Strategy) {
	for i, c := range w.Clients {
		for _, ch := range w.Lists[i] {
			s.Subscribe(ch, c)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
