// Package cacheline keeps hot, independently written fields on cache lines
// of their own, so that cores writing them do not steal each other's lines
// (false sharing). It holds types only: padding, no state and no locks.
package cacheline
