package strategies

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// TestSets checks every design against a map: adds, removes in random
// order, and a walk that sees exactly the members.
func TestSets(t *testing.T) {
	for _, f := range SetDesigns() {
		t.Run(f.Name, func(t *testing.T) {
			s := f.New()
			r := rand.New(rand.NewPCG(1, 2))
			want := map[*Client]*Handle{}
			var clients []*Client
			for i := 0; i < 5000; i++ {
				if len(clients) > 0 && r.IntN(3) == 0 {
					j := r.IntN(len(clients))
					c := clients[j]
					clients[j] = clients[len(clients)-1]
					clients = clients[:len(clients)-1]
					s.Remove(c, want[c])
					delete(want, c)
					continue
				}
				c := &Client{ID: i}
				want[c] = s.Add(c)
				clients = append(clients, c)
			}
			got := map[*Client]int{}
			s.Walk(func(c *Client) { got[c]++ })
			if len(got) != len(want) || s.Len() != len(want) {
				t.Fatalf("walk saw %d, Len %d; want %d", len(got), s.Len(), len(want))
			}
			for c, n := range got {
				if _, ok := want[c]; !ok || n != 1 {
					t.Fatalf("walk saw client %d %d times (member: %v)", c.ID, n, ok)
				}
			}
		})
	}
}

// fill returns a set of f's design with n members and their handles.
func fill(f SetFactory, n int) (Set, []*Client, []*Handle) {
	s := f.New()
	cs := make([]*Client, n)
	hs := make([]*Handle, n)
	for i := range cs {
		cs[i] = &Client{ID: i}
		hs[i] = s.Add(cs[i])
	}
	return s, cs, hs
}

// BenchmarkSetChange is one member leaving and another arriving (its cost
// should not depend on n), the work of an unsubscribe plus a subscribe.
func BenchmarkSetChange(b *testing.B) {
	for _, f := range SetDesigns() {
		for _, n := range []int{100, 10_000, 100_000} {
			b.Run(fmt.Sprintf("%s/n=%d", f.Name, n), func(b *testing.B) {
				s, cs, hs := fill(f, n)
				r := rand.New(rand.NewPCG(1, 2))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					j := r.IntN(n)
					s.Remove(cs[j], hs[j])
					hs[j] = s.Add(cs[j])
				}
			})
		}
	}
}

// BenchmarkSetWalk is a fan-out's walk of 10,000 members, per member.
func BenchmarkSetWalk(b *testing.B) {
	const n = 10_000
	for _, f := range SetDesigns() {
		b.Run(f.Name, func(b *testing.B) {
			s, _, _ := fill(f, n)
			var sum int
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s.Walk(func(c *Client) { sum += c.ID })
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/member")
		})
	}
	sink.Add(1)
}

// BenchmarkSetMassLeave is every member of a channel leaving, one by one,
// while a publisher walks the set for a fan-out every 20 leaves: the
// mass disconnect of issue 11, per leave.
func BenchmarkSetMassLeave(b *testing.B) {
	for _, f := range SetDesigns() {
		for _, n := range []int{1_000, 10_000, 100_000} {
			b.Run(fmt.Sprintf("%s/n=%d", f.Name, n), func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					s, cs, hs := fill(f, n)
					b.StartTimer()
					var wg sync.WaitGroup
					// Two leaving goroutines, as nbio's executors close
					// connections in parallel.
					for part := 0; part < 2; part++ {
						wg.Go(func() {
							for j := part; j < n; j += 2 {
								s.Remove(cs[j], hs[j])
								if j%20 == 0 {
									s.Walk(func(*Client) {})
								}
							}
						})
					}
					wg.Wait()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/leave")
			})
		}
	}
}
