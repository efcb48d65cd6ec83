package auth

import "testing"

func BenchmarkAllow(b *testing.B) {
	r := mustCompile(b, DefaultRules())
	for _, sub := range []string{"token.BTC.trade", "user.42.favorites", "global", "token.*.trade", "nope.x.y"} {
		b.Run("sub="+sub, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r.Allow(alice, sub)
				}
			})
		})
	}
}
