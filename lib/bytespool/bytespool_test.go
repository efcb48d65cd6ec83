package bytespool

import "testing"

func TestGetPut(t *testing.T) {
	b := Get()
	if len(*b) != 0 || cap(*b) < initialSize {
		t.Fatalf("Get: len %d cap %d; want 0 and at least %d", len(*b), cap(*b), initialSize)
	}
	*b = append(*b, "abc"...)
	Put(b)
	Put(nil)
	big := make([]byte, 0, maxPooledSize+1)
	Put(&big) // dropped, not pooled
	for i := 0; i < 100; i++ {
		if c := Get(); len(*c) != 0 || cap(*c) > maxPooledSize {
			t.Fatalf("Get after Put: len %d cap %d", len(*c), cap(*c))
		}
	}
}

func BenchmarkGetPut(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		p := Get()
		*p = append(*p, 1)
		Put(p)
	}
}
