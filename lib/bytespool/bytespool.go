package bytespool

import "sync"

const (
	// initialSize is the capacity of a fresh buffer: a few small frames.
	initialSize = 4 << 10
	// maxPooledSize: buffers that grew past this are left to the GC so a
	// burst does not pin memory in the pool.
	maxPooledSize = 64 << 10
)

var pool = sync.Pool{New: func() any {
	b := make([]byte, 0, initialSize)
	return &b
}}

// Get returns an empty buffer of capacity at least 4 KiB.
func Get() *[]byte {
	return pool.Get().(*[]byte)
}

// Put returns b to the pool; neither b nor its bytes may be used
// afterwards. A nil b is ignored.
func Put(b *[]byte) {
	if b == nil || cap(*b) > maxPooledSize {
		return
	}
	*b = (*b)[:0]
	pool.Put(b)
}
