package cluster

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestNumberWindow checks the numbering rule on windows written as
// "sseq[:hseq][@ts]" (hseq 0: a plain message; ts in minutes), with a 5
// minute max_age.
func TestNumberWindow(t *testing.T) {
	parse := func(spec string) []stored {
		var w []stored
		for _, f := range strings.Fields(spec) {
			var st stored
			var ts int64
			rest, at, _ := strings.Cut(f, "@")
			if at != "" {
				fmt.Sscan(at, &ts)
			}
			a, b, _ := strings.Cut(rest, ":")
			fmt.Sscan(a, &st.sseq)
			if b != "" {
				fmt.Sscan(b, &st.hseq)
			}
			st.ts = ts * int64(time.Minute)
			w = append(w, st)
		}
		return w
	}
	f := func(spec string, hint known, want string, wantCertain int) {
		t.Helper()
		seqs, certain := numberWindow(parse(spec), hint, 5*time.Minute)
		if got := strings.Trim(fmt.Sprint(seqs), "[]"); got != want || certain != wantCertain {
			t.Fatalf("numberWindow(%s, %v) = %s, certain from %d; want %s, from %d", spec, hint, got, certain, want, wantCertain)
		}
	}
	none := known{}
	f("", none, "", 0)
	// Headers, and plain messages after them.
	f("10:7 11:8 15:9", none, "7 8 9", 0)
	f("10:7 11 12 20:10 21", none, "7 8 9 10 11", 0)
	// Plain messages before the first header: backwards from it.
	f("10 11 12:40 13", none, "38 39 40 41", 0)
	// A header that jumps (another node numbered differently): it wins.
	f("10:7 11 12:20 13", none, "7 8 20 21", 0)
	// Only plain messages: numbered from the node's own delivery...
	f("10 11 12", known{11, 5}, "4 5 6", 0)
	f("10 11 12", known{10, 5}, "5 6 7", 0)
	// ...or from an uncertain anchor at the oldest one.
	f("10 11 12", none, "10 11 12", 3)
	f("10 11 12", known{9, 5}, "10 11 12", 3)
	// Idle for max_age or more: a new numbering at the stream sequence.
	f("10:7@0 11@5 12@6", none, "7 11 12", 0)
	f("10:7@0 11@4 12@6", none, "7 8 9", 0)
	// The idle anchor is certain; what came before it, back to nothing
	// known, is not.
	f("10@0 11@1 20@7 21@7", none, "10 11 20 21", 2)
	f("10@0 11@1 20@7 21:3@7", none, "10 11 20 3", 2) // as delivered live: the header jumps
	// Backwards stops at seq 1.
	f("10 11 12:1", none, "10 11 1", 2)
}

func TestParseAckReply(t *testing.T) {
	f := func(reply string, want ackMeta, ok bool) {
		t.Helper()
		got, gotOK := parseAckReply(reply)
		if got != want || gotOK != ok {
			t.Fatalf("parseAckReply(%q) = %+v, %v; want %+v, %v", reply, got, gotOK, want, ok)
		}
	}
	f("$JS.ACK.WSFAN.EXyf9DUW.1.2.1.1796166608022807379.3", ackMeta{sseq: 2, cseq: 1, ts: 1796166608022807379, pending: 3}, true)
	f("$JS.ACK.hub.AHASH.WSFAN.EXyf9DUW.1.20.10.1796166608022807379.0.tok",
		ackMeta{sseq: 20, cseq: 10, ts: 1796166608022807379, pending: 0}, true)
	f("$JS.ACK.WSFAN.C.1.2.x.4.5", ackMeta{}, false)
	f("$JS.ACK.WSFAN.C.1.2", ackMeta{}, false)
	f("_INBOX.x", ackMeta{}, false)
	f("", ackMeta{}, false)
}

func TestCoversPrefix(t *testing.T) {
	f := func(subj, prefix string, want bool) {
		t.Helper()
		if got := coversPrefix(subj, prefix); got != want {
			t.Fatalf("coversPrefix(%q, %q) = %v; want %v", subj, prefix, got, want)
		}
	}
	f("odin.>", "odin.", true)
	f(">", "odin.", true)
	f("*.>", "odin.", true)
	f("odin.prod.>", "odin.prod.", true)
	f("odin.*.>", "odin.prod.", true)
	f("odin.*", "odin.", false)
	f("odin.token.>", "odin.", false)
	f("other.>", "odin.", false)
	f("odin", "odin.", false)
}

func TestValidID(t *testing.T) {
	f := func(id string, want bool) {
		t.Helper()
		if got := validID(id); got != want {
			t.Fatalf("validID(%q) = %v; want %v", id, got, want)
		}
	}
	f("", true)
	f("order-42", true)
	f("order 42", true)
	f("é", true)
	f(strings.Repeat("x", 64), true)
	f(strings.Repeat("x", 65), false)
	f(" x", false)
	f("x ", false)
	f("a\nb", false)
	f("a\x00b", false)
	f("a\x7fb", false)
}
