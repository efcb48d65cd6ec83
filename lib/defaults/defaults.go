package defaults

// Set sets *p to v when *p is T's zero value: a key absent from the file (or
// written as 0) takes its default.
func Set[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}
