package server

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// publishCases are hostile bodies and requests for POST /publish on the
// internal listener (docs/protocol.md, "Publish API"): each answered with its
// status and error code and, since the good client's markers keep their
// seq, publishing nothing. The listener is the backend's, but a broken or
// compromised publisher must not take the server down either.
func publishCases(h *hostile) {
	s := h.s
	publishAnswer := func(name, key, body string, wantStatus int, wantCode string) {
		h.add("publish: "+name, func(t *testing.T) string {
			status, got := publishWithKey(t, s, key, body)
			if status != wantStatus || (wantCode != "" && !strings.Contains(got, `"code":"`+wantCode+`"`)) {
				t.Fatalf("%.60q -> %d %s; want %d %s", body, status, got, wantStatus, wantCode)
			}
			return fmt.Sprintf("HTTP %d %s", status, got)
		})
	}
	bad := func(name, body, code string) { publishAnswer(name, testKey, body, http.StatusBadRequest, code) }

	publishAnswer("no key", "", `{"channel":"a","data":1}`, 401, "UNAUTHORIZED")
	publishAnswer("wrong key", "wrong-key-0123456789", `{"channel":"a","data":1}`, 401, "UNAUTHORIZED")
	bad("not JSON", `{"channel":`, "BAD_REQUEST")
	bad("empty body", ``, "BAD_REQUEST")
	bad("empty array", `[]`, "BAD_REQUEST")
	bad("missing channel", `{"data":1}`, "BAD_REQUEST")
	bad("missing data", `{"channel":"a"}`, "BAD_REQUEST")
	bad("data not JSON", `{"channel":"a","data":tru}`, "BAD_REQUEST")
	bad("body not UTF-8", "{\"channel\":\"a\",\"data\":\"\xff\"}", "BAD_REQUEST")
	bad("wildcard channel", `{"channel":"a.*","data":1}`, "INVALID_CHANNEL")
	bad("invalid channel", `{"channel":"a..b","data":1}`, "INVALID_CHANNEL")
	// One bad publication refuses the whole batch: the good channel's
	// publication in it must not be delivered (the next marker checks it).
	bad("batch with one bad channel", `[{"channel":"`+goodChannel+`","data":"must not arrive"},{"channel":"bad..c","data":1}]`, "INVALID_CHANNEL")
	bad("deep nesting in data", `{"channel":"a","data":`+strings.Repeat("[", 100000)+`}`, "BAD_REQUEST")
	publishAnswer("body over max_publish_bytes", testKey, `{"channel":"a","data":"`+strings.Repeat("x", 1<<20)+`"}`, 413, "TOO_LARGE")

	h.add("publish: Content-Length larger than the body", func(t *testing.T) string {
		c, err := net.DialTimeout("tcp", s.AdminAddr(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(20 * time.Second))
		body := `{"channel":"a","data":1}`
		_, _ = fmt.Fprintf(c, "POST /publish HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n%s", testKey, len(body)+10, body)
		b, _ := io.ReadAll(c) // the body never completes: 408 after the body timeout, then the close
		if !strings.HasPrefix(string(b), "HTTP/1.1 408") {
			t.Fatalf("answered %q; want 408", b)
		}
		return "HTTP 408, connection closed"
	})
}
