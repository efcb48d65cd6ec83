package index

import "testing"

// FuzzMatch checks the trie against refMatch: a subscriber of pattern is
// found by Lookup(channel) exactly when the reference says they match, and
// unsubscribing leaves the trie empty.
func FuzzMatch(f *testing.F) {
	seeds := [][2]string{
		{"token.*.trade", "token.BTC.trade"},
		{"token.*.trade", "token.BTC.liquidity"},
		{"token.BTC.>", "token.BTC.trade"},
		{"token.BTC.>", "token.BTC"},
		{">", "global"},
		{"*", "a.b"},
		{"*.>", "a"},
		{"*.*.*", "a.b.c"},
		{"a.*.>", "a.b.c.d"},
		{"token.BTC.trade", "token.BTC.trade"},
		{"a.>.b", "a.x.b"},
		{"a..b", "a.b"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, channel string) {
		if !ValidPattern(pattern) || !ValidChannel(channel) {
			return
		}
		ix := newFixture[int](Config{Shards: 1, MatchCacheSize: 1})
		ix.sub("x.y.z", 2) // another pattern's channel, another subscriber
		ix.sub("q.>", 3)
		ix.sub(pattern, 1)
		want := refMatch(pattern, channel)
		for range 2 { // cold, then from the cache
			exact, pats := ix.reach(channel)
			found := 0
			for _, s := range exact {
				if s == 1 {
					found++
				}
			}
			for _, set := range pats {
				for _, s := range set {
					if s == 1 {
						found++
					}
				}
			}
			if found > 1 || (found == 1) != want {
				t.Fatalf("subscriber of %q found %d times by Lookup(%q); the reference says match=%v", pattern, found, channel, want)
			}
		}
		ix.unsub(pattern, 1)
		ix.unsub("q.>", 3)
		if ix.Patterns() != 0 || !ix.trie.root.empty() || ix.Subscriptions() != 1 {
			t.Fatalf("after unsubscribing %q: Patterns() = %d, Subscriptions() = %d, trie root empty: %v",
				pattern, ix.Patterns(), ix.Subscriptions(), ix.trie.root.empty())
		}
	})
}
