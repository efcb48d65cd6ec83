package main

import (
	"encoding/json"
	"testing"
)

func TestOrderBooks(t *testing.T) {
	books := orderBooks(50)
	if len(books) != bookVariants || books[0] == books[1] {
		t.Fatalf("%d books; the first two equal: %v", len(books), books[0] == books[1])
	}
	var b struct{ B, A [][2]string }
	if err := json.Unmarshal([]byte(books[3]), &b); err != nil || len(b.B) != 50 || len(b.A) != 50 {
		t.Fatalf("book: %v, %d/%d levels", err, len(b.B), len(b.A))
	}
	if n := len(books[0]); n < 3000 || n > 3500 {
		t.Fatalf("50 levels a side make %d bytes; want about 3.2 KB", n)
	}
}
