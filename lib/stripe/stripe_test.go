package stripe

import (
	"sync"
	"testing"
)

type key int

func (k key) Shard(n int) int { return int(k) & (n - 1) }

func TestMapConcurrent(t *testing.T) {
	m := New[key, int]()
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Go(func() {
			for i := 0; i < 1000; i++ {
				m.With(key(i), func(s map[key]int, _ int) { s[key(i)]++ })
			}
		})
	}
	wg.Wait()
	if m.Len() != 1000 {
		t.Fatalf("Len = %d; want 1000", m.Len())
	}
	m.With(key(5), func(s map[key]int, _ int) {
		if s[5] != 4 {
			t.Fatalf("key 5 counted %d; want 4", s[5])
		}
		delete(s, 5)
	})
	if m.Len() != 999 {
		t.Fatalf("Len after delete = %d", m.Len())
	}
}
