package cacheline

// Size is the stride that keeps two values apart: two 64-byte lines, since
// x86 prefetches lines in adjacent pairs.
const Size = 128

// Pad is a field that fills Size bytes: put one between fields that
// different cores write.
type Pad [Size]byte
