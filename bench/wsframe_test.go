package main

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"wsfan/bench/internal/rfc6455"
)

// serverFrame builds an unmasked server frame.
func serverFrame(op byte, payload []byte) []byte {
	b := []byte{0x80 | op}
	switch n := len(payload); {
	case n < 126:
		b = append(b, byte(n))
	case n <= 0xFFFF:
		b = append(b, 126, byte(n>>8), byte(n))
	default:
		b = append(b, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return append(b, payload...)
}

// unmask decodes one client frame; it fails the test on a malformed one.
func unmask(t *testing.T, f []byte) (op byte, payload []byte) {
	t.Helper()
	if f[0]&0x80 == 0 || f[1]&0x80 == 0 {
		t.Fatalf("client frame %x: not final or not masked", f[:2])
	}
	n, hl := int(f[1]&0x7F), 2
	switch n {
	case 126:
		n, hl = int(binary.BigEndian.Uint16(f[2:])), 4
	case 127:
		n, hl = int(binary.BigEndian.Uint64(f[2:])), 10
	}
	key := f[hl : hl+4]
	p := append([]byte(nil), f[hl+4:hl+4+n]...)
	for i := range p {
		p[i] ^= key[i&3]
	}
	if len(f) != hl+4+n {
		t.Fatalf("client frame has %d bytes; header says %d", len(f), hl+4+n)
	}
	return f[0] & 0x0F, p
}

type rawRecorder struct {
	texts  []string
	writes [][]byte
	shut   int
	gone   []error
}

func newTestRaw() (*rawConn, *rawRecorder) {
	rec := &rawRecorder{}
	r := &rawConn{
		write: func(b []byte) error { rec.writes = append(rec.writes, append([]byte(nil), b...)); return nil },
		shut:  func() error { rec.shut++; return nil },
		text:  func(p []byte) { rec.texts = append(rec.texts, string(p)) },
		gone:  func(err error) { rec.gone = append(rec.gone, err) },
	}
	return r, rec
}

func TestRawConnSplitReads(t *testing.T) {
	var msgs []string
	var stream []byte
	for i, n := range []int{0, 1, 125, 126, 127, 300, 65535, 65536, 70000} {
		m := fmt.Sprintf(`{"type":"message","seq":%d,"pad":"%s"}`, i, bytes.Repeat([]byte("x"), n))
		msgs = append(msgs, m)
		stream = append(stream, serverFrame(opText, []byte(m))...)
		stream = append(stream, serverFrame(opPong, nil)...) // ignored
	}
	check := func(name string, rec *rawRecorder) {
		t.Helper()
		if len(rec.texts) != len(msgs) {
			t.Fatalf("%s: %d messages; want %d", name, len(rec.texts), len(msgs))
		}
		for i := range msgs {
			if rec.texts[i] != msgs[i] {
				t.Fatalf("%s: message %d differs (%d bytes; want %d)", name, i, len(rec.texts[i]), len(msgs[i]))
			}
		}
	}
	// The whole stream in one read.
	r, rec := newTestRaw()
	if err := r.Parse(stream); err != nil {
		t.Fatal(err)
	}
	check("one read", rec)
	// Two reads, split at every position in the first kilobyte and at a
	// few later ones (headers and payloads cut anywhere).
	cuts := []int{}
	for i := 1; i < 1024; i++ {
		cuts = append(cuts, i)
	}
	cuts = append(cuts, len(stream)/2, len(stream)-3, len(stream)-1)
	for _, cut := range cuts {
		r, rec := newTestRaw()
		if err := r.Parse(stream[:cut]); err != nil {
			t.Fatal(err)
		}
		if err := r.Parse(stream[cut:]); err != nil {
			t.Fatal(err)
		}
		check(fmt.Sprintf("cut at %d", cut), rec)
		if len(r.rest) != 0 {
			t.Fatalf("cut at %d: %d bytes left over", cut, len(r.rest))
		}
	}
	// One byte per read.
	r, rec = newTestRaw()
	for i := range stream {
		if err := r.Parse(stream[i : i+1]); err != nil {
			t.Fatal(err)
		}
	}
	check("byte by byte", rec)
}

func TestRawConnControlFrames(t *testing.T) {
	r, rec := newTestRaw()
	// A ping is answered with a pong carrying the same payload.
	if err := r.Parse(serverFrame(opPing, []byte("hi"))); err != nil {
		t.Fatal(err)
	}
	if len(rec.writes) != 1 {
		t.Fatalf("%d writes after a ping; want 1 pong", len(rec.writes))
	}
	if op, p := unmask(t, rec.writes[0]); op != opPong || string(p) != "hi" {
		t.Fatalf("answer to ping: op %d payload %q", op, p)
	}
	// The server's close (1008 slow consumer) is recorded, answered with
	// its code and the socket closed.
	cl := binary.BigEndian.AppendUint16(nil, 1008)
	cl = append(cl, "slow consumer"...)
	if err := r.Parse(serverFrame(opClose, cl)); err != nil {
		t.Fatal(err)
	}
	if code, reason := r.peerClose(); code != 1008 || reason != "slow consumer" {
		t.Fatalf("peer close %d %q", code, reason)
	}
	if op, p := unmask(t, rec.writes[1]); op != opClose || binary.BigEndian.Uint16(p) != 1008 || len(p) != 2 {
		t.Fatalf("close answer: op %d payload %x", op, p)
	}
	if rec.shut != 1 {
		t.Fatalf("socket closed %d times; want 1", rec.shut)
	}
	r.CloseAndClean(nil)
	r.CloseAndClean(nil)
	if len(rec.gone) != 1 {
		t.Fatalf("gone called %d times; want 1", len(rec.gone))
	}

	// Our own close first: the server's answer is not answered again.
	r, rec = newTestRaw()
	if err := r.writeClose(1000); err != nil {
		t.Fatal(err)
	}
	if err := r.writeClose(1000); err != nil { // once only
		t.Fatal(err)
	}
	if err := r.Parse(serverFrame(opClose, binary.BigEndian.AppendUint16(nil, 1000))); err != nil {
		t.Fatal(err)
	}
	if len(rec.writes) != 1 || rec.shut != 1 {
		t.Fatalf("after our close and the answer: %d writes, %d shuts; want 1, 1", len(rec.writes), rec.shut)
	}
	// A close without a code reads as 1005.
	r, _ = newTestRaw()
	_ = r.Parse(serverFrame(opClose, nil))
	if code, _ := r.peerClose(); code != 1005 {
		t.Fatalf("empty close: code %d; want 1005", code)
	}
}

func TestRawConnErrors(t *testing.T) {
	f := func(name string, in []byte) {
		t.Helper()
		r, _ := newTestRaw()
		if err := r.Parse(in); err == nil {
			t.Fatalf("%s: no error", name)
		}
	}
	f("masked", []byte{0x81, 0x80 | 1, 1, 2, 3, 4, 'x'})
	f("rsv", []byte{0x80 | 0x40 | opText, 1, 'x'})
	f("fragment", []byte{opText, 1, 'x'})
	f("continuation", []byte{0x80 | opContinuation, 1, 'x'})
	f("opcode", []byte{0x80 | 0x3, 0})
	big := []byte{0x80 | opText, 127}
	f("size", binary.BigEndian.AppendUint64(big, maxServerFrame+1))
}

// TestRawConnDeflate: with permessage-deflate negotiated an RSV1 message
// is inflated before text sees it; RSV1 on a control frame, or without the
// extension, is an error.
func TestRawConnDeflate(t *testing.T) {
	msg := []byte(`{"type":"message","seq":1,"data":"` + strings.Repeat("abc", 500) + `"}`)
	var z bytes.Buffer
	w, _ := flate.NewWriter(&z, 1)
	_, _ = w.Write(msg)
	_ = w.Flush()
	payload := bytes.TrimSuffix(z.Bytes(), []byte{0, 0, 0xff, 0xff})
	frame := serverFrame(opText, payload)
	frame[0] |= 0x40
	r, rec := newTestRaw()
	r.inflate = true
	if err := r.Parse(frame); err != nil || len(rec.texts) != 1 || rec.texts[0] != string(msg) {
		t.Fatalf("inflated: %v, %d texts", err, len(rec.texts))
	}
	ping := serverFrame(opPing, nil)
	ping[0] |= 0x40
	if err := r.Parse(ping); err == nil {
		t.Fatal("RSV1 on a ping passed")
	}
	plain, _ := newTestRaw()
	if err := plain.Parse(frame); err == nil {
		t.Fatal("RSV1 without the extension passed")
	}
}

// TestClientFrameMasking checks rfc6455.AppendClientFrame, which the raw
// reference server's tests use too, and writeText.
func TestClientFrameMasking(t *testing.T) {
	for _, n := range []int{0, 5, 125, 126, 65535, 65536} {
		p := bytes.Repeat([]byte{'a'}, n)
		fr := rfc6455.AppendClientFrame(nil, opText, p)
		op, got := unmask(t, fr)
		if op != opText || !bytes.Equal(got, p) {
			t.Fatalf("n=%d: round trip failed", n)
		}
	}
	r, rec := newTestRaw()
	sub := []byte(`{"type":"subscribe","id":"s","data":{"channels":["token.T0.trade"]}}`)
	if err := r.writeText(sub); err != nil {
		t.Fatal(err)
	}
	if op, p := unmask(t, rec.writes[0]); op != opText || !bytes.Equal(p, sub) {
		t.Fatalf("writeText: op %d payload %q", op, p)
	}
}
