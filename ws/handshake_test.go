package ws

import (
	"bufio"
	"net/http"
	"strings"
	"testing"
)

func TestCheckRequest(t *testing.T) {
	const good = "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
	f := func(name, req string, wantStatus int) {
		t.Helper()
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(req + "\r\n")))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		key, herr := CheckRequest(r)
		switch {
		case wantStatus == 0 && (herr != nil || key != "dGhlIHNhbXBsZSBub25jZQ=="):
			t.Fatalf("%s: CheckRequest = %q, %v; want the key", name, key, herr)
		case wantStatus != 0 && (herr == nil || herr.Status != wantStatus || key != ""):
			t.Fatalf("%s: CheckRequest = %q, %v; want status %d", name, key, herr, wantStatus)
		}
	}
	f("valid", good, 0)
	f("tokens in any case", strings.NewReplacer("websocket", "WebSocket", "Upgrade\r\nSec", "upgrade\r\nSec").Replace(good), 0)
	f("POST", strings.Replace(good, "GET", "POST", 1), 405)
	f("HTTP/1.0", strings.Replace(good, "HTTP/1.1", "HTTP/1.0", 1), 400)
	f("no Upgrade", strings.Replace(good, "Upgrade: websocket\r\n", "", 1), 400)
	f("Upgrade: h2c", strings.Replace(good, "Upgrade: websocket", "Upgrade: h2c", 1), 400)
	f("no Connection: Upgrade", strings.Replace(good, "keep-alive, Upgrade", "keep-alive", 1), 400)
	f("no key", strings.Replace(good, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "", 1), 400)
	f("key of 15 bytes", strings.Replace(good, "dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25j", 1), 400)
	f("key not base64", strings.Replace(good, "dGhlIHNhbXBsZSBub25jZQ==", "!!!!!!!!!!!!!!!!!!!!!!==", 1), 400)
	f("key of 17 bytes", strings.Replace(good, "dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZT8=", 1), 400)
	f("two keys", good+"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", 400)
	f("version 8", strings.Replace(good, "Version: 13", "Version: 8", 1), 426)
	f("no version", strings.Replace(good, "Sec-WebSocket-Version: 13\r\n", "", 1), 426)
	f("header of 16 KiB", good+"X-Pad: "+strings.Repeat("p", 16<<10)+"\r\n", 431)
	f("header of 15 KiB", good+"X-Pad: "+strings.Repeat("p", 15<<10)+"\r\n", 0)
}

func TestAcceptKey(t *testing.T) {
	// RFC 6455, section 1.3.
	if got := AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("AcceptKey = %q", got)
	}
	got := string(AppendResponse(nil, "dGhlIHNhbXBsZSBub25jZQ==", "permessage-deflate"))
	want := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
	if got != want {
		t.Fatalf("AppendResponse = %q; want %q", got, want)
	}
}
