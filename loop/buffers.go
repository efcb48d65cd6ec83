package loop

import "sync"

const (
	// initialBufSize is the capacity of a fresh outbound buffer: a few small
	// frames.
	initialBufSize = 4 << 10
	// maxPooledBufSize: buffers that grew past this are left to the GC so a
	// burst does not pin memory in the pool.
	maxPooledBufSize = 64 << 10
)

var bufPool = sync.Pool{New: func() any {
	b := make([]byte, 0, initialBufSize)
	return &b
}}

// getBuf returns an empty buffer from the pool.
func getBuf() *[]byte {
	return bufPool.Get().(*[]byte)
}

// putBuf returns b to the pool; b must not be used afterwards.
func putBuf(b *[]byte) {
	if b == nil || cap(*b) > maxPooledBufSize {
		return
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}
