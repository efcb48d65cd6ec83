package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// bookVariants is how many different order books a -book run rotates
// through: each publication compresses alone, so what matters is that a
// book's numbers vary within it, as a real one's do.
const bookVariants = 64

// orderBooks returns bookVariants order books of levels price levels a
// side, in a large exchange's depth-update format (prices and sizes as
// 8-decimal strings, sizes with 4 significant decimals): about 32 bytes a
// level, so 50 levels a side make about 3.2 KB.
func orderBooks(levels int) []string {
	books := make([]string, bookVariants)
	r := rand.New(rand.NewPCG(7, 7))
	for v := range books {
		var b strings.Builder
		side := func(from, step float64) {
			for i := range levels {
				if i > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, `["%.8f","%.8f"]`, from+float64(i)*step, math.Round(r.Float64()*3e4)/1e4)
			}
		}
		mid := 43250 + float64(v)*0.5
		b.WriteString(`{"b":[`)
		side(mid, -0.5)
		b.WriteString(`],"a":[`)
		side(mid+1, 0.5)
		b.WriteString(`]}`)
		books[v] = b.String()
	}
	return books
}
