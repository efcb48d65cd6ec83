package strategies

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"

	"wsfan/index"
)

// factories returns every strategy under test: the five and the sweep.
func factories() []Factory {
	return append(All(), Striped(4), Striped(64), StripedCounting())
}

// TestStrategiesMatchModel runs random operations on every strategy and on a
// map of sets, and compares their answers.
func TestStrategiesMatchModel(t *testing.T) {
	for _, f := range factories() {
		t.Run(f.Name, func(t *testing.T) {
			s := f.New()
			defer s.Close()
			r := rand.New(rand.NewPCG(1, 2))
			clients := make([]*Client, 16)
			for i := range clients {
				clients[i] = &Client{ID: i}
			}
			model := map[string]map[*Client]bool{}
			names := make([]string, 24)
			for i := range names {
				names[i] = fmt.Sprintf("token.%d.trade", i)
			}
			for step := range 20000 {
				ch, c := names[r.IntN(len(names))], clients[r.IntN(len(clients))]
				switch op := r.IntN(10); {
				case op < 4:
					want := !model[ch][c]
					if model[ch] == nil {
						model[ch] = map[*Client]bool{}
					}
					model[ch][c] = true
					if got := s.Subscribe(ch, c); got != want {
						t.Fatalf("step %d: Subscribe = %v; want %v", step, got, want)
					}
				case op < 7:
					want := model[ch][c]
					delete(model[ch], c)
					if got := s.Unsubscribe(ch, c); got != want {
						t.Fatalf("step %d: Unsubscribe = %v; want %v", step, got, want)
					}
				case op < 8:
					list := []string{ch, names[r.IntN(len(names))], ch}
					want := 0
					for _, x := range list {
						if model[x][c] {
							want++
							delete(model[x], c)
						}
					}
					if got := s.RemoveAll(c, list); got != want {
						t.Fatalf("step %d: RemoveAll = %d; want %d", step, got, want)
					}
				default:
					var got []*Client
					if n := s.Walk(ch, func(c *Client) { got = append(got, c) }); n != len(got) || len(got) != len(model[ch]) {
						t.Fatalf("step %d: Walk(%q) saw %d subscribers, said %d; want %d", step, ch, len(got), n, len(model[ch]))
					}
					for _, x := range got {
						if !model[ch][x] {
							t.Fatalf("step %d: Walk(%q) holds a stranger", step, ch)
						}
					}
				}
			}
		})
	}
}

// TestStrategiesConcurrent churns every strategy from several goroutines
// while readers walk the channels; run it with -race. Every client
// leaves at the end, after which every channel must be empty.
func TestStrategiesConcurrent(t *testing.T) {
	iterations := 2000
	if testing.Short() {
		iterations = 200
	}
	names := make([]string, 8)
	for i := range names {
		names[i] = fmt.Sprintf("token.%d.trade", i)
	}
	for _, f := range factories() {
		t.Run(f.Name, func(t *testing.T) {
			s := f.New()
			defer s.Close()
			var wg sync.WaitGroup
			for w := range 4 {
				wg.Go(func() {
					r := rand.New(rand.NewPCG(uint64(w), 3))
					c, mine := &Client{ID: w}, map[string]bool{}
					for range iterations {
						ch := names[r.IntN(len(names))]
						switch op := r.IntN(10); {
						case op < 5:
							if s.Subscribe(ch, c) == mine[ch] {
								t.Errorf("Subscribe disagrees with the client's list")
								return
							}
							mine[ch] = true
						case op < 9:
							if s.Unsubscribe(ch, c) != mine[ch] {
								t.Errorf("Unsubscribe disagrees with the client's list")
								return
							}
							delete(mine, ch)
						default:
							list := slices.Collect(func(yield func(string) bool) {
								for ch := range mine {
									if !yield(ch) {
										return
									}
								}
							})
							if got := s.RemoveAll(c, list); got != len(list) {
								t.Errorf("RemoveAll = %d; want %d", got, len(list))
								return
							}
							c, mine = &Client{ID: w}, map[string]bool{}
						}
					}
					for ch := range mine {
						s.Unsubscribe(ch, c)
					}
				})
			}
			stop := make(chan struct{})
			var rg sync.WaitGroup
			for range 2 {
				rg.Go(func() {
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						seen := map[*Client]bool{}
						s.Walk(names[i%len(names)], func(c *Client) {
							if seen[c] {
								t.Errorf("a walk saw a subscriber twice")
							}
							seen[c] = true
						})
						runtime.Gosched()
					}
				})
			}
			wg.Wait()
			close(stop)
			rg.Wait()
			for _, ch := range names {
				if n := s.Walk(ch, nil); n != 0 {
					t.Fatalf("after every client left, %q has %d subscribers", ch, n)
				}
			}
		})
	}
}

func TestWorkload(t *testing.T) {
	w := NewWorkload()
	subs := 0
	seen := map[string]bool{}
	for i, l := range w.Lists {
		subs += len(l)
		for _, ch := range l {
			seen[ch] = true
		}
		if len(l) != SubsPerClient || len(slices.Compact(slices.Sorted(slices.Values(l)))) != len(l) {
			t.Fatalf("client %d has channels %q; want %d distinct", i, l, SubsPerClient)
		}
	}
	if subs != Subscriptions || len(seen) != Channels {
		t.Fatalf("the workload has %d subscriptions on %d channels; want %d on %d", subs, len(seen), Subscriptions, Channels)
	}
	s := NewStriped(index.Config{})
	w.Load(s)
	top := s.Walk(w.Names[0], nil)
	t.Logf("top channel: %d subscribers; rank 100: %d; rank 9999: %d",
		top, s.Walk(w.Names[100], nil), s.Walk(w.Names[9999], nil))
	if ix := s.Index(); ix.Subscriptions() != Subscriptions || ix.Channels() != Channels {
		t.Fatalf("loaded: %d subscriptions on %d channels", ix.Subscriptions(), ix.Channels())
	}
}
