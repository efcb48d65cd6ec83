package rfc6455

import (
	"net/http"
	"testing"
)

func TestAcceptKey(t *testing.T) {
	// RFC 6455 §1.3's example.
	if got := AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("AcceptKey = %s", got)
	}
}

func TestHeaderHas(t *testing.T) {
	h := http.Header{"Connection": {"keep-alive, Upgrade"}, "Upgrade": {"WebSocket"}}
	if !HeaderHas(h, "Connection", "upgrade") || !HeaderHas(h, "Upgrade", "websocket") {
		t.Fatalf("tokens not found in %v", h)
	}
	if HeaderHas(h, "Connection", "close") || HeaderHas(h, "Sec-WebSocket-Key", "x") {
		t.Fatalf("tokens found that %v lacks", h)
	}
}
