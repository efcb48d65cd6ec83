package gcra

import (
	"math"
	"time"
)

// Rate is a sustained rate and a burst, as GCRA keeps them.
type Rate struct {
	Interval int64 // ns per token at the sustained rate
	Tol      int64 // burst × Interval: how far ahead of now a TAT may run
}

// New returns the Rate of perSecond tokens a second and burst tokens.
func New(perSecond float64, burst int) Rate {
	iv := max(1, int64(math.Round(float64(time.Second)/perSecond)))
	return Rate{Interval: iv, Tol: iv * int64(burst)}
}

// Take returns the TAT after one token is taken at now from a bucket whose
// TAT is tat, and whether there was a token; without one, tat is unchanged.
func (r Rate) Take(tat, now int64) (int64, bool) {
	next := max(tat, now) + r.Interval
	if next-now > r.Tol {
		return tat, false
	}
	return next, true
}
