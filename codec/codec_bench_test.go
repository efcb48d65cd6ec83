package codec

import (
	"bytes"
	"strconv"
	"testing"
)

// benchData returns a JSON object of about size bytes.
func benchData(size int) []byte {
	b := []byte(`{"price":"43250.5","pad":"`)
	b = append(b, bytes.Repeat([]byte{'x'}, max(0, size-len(b)-2))...)
	return append(b, `"}`...)
}

func BenchmarkAppendMessageFrame(b *testing.B) {
	for _, size := range []int{64, 1 << 10, 16 << 10} {
		b.Run("size="+strconv.Itoa(size), func(b *testing.B) {
			data := benchData(size)
			dst := make([]byte, 0, size+256)
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				dst = AppendMessageFrame(dst[:0], "token.BTC.trade", 1043, 1764236400123, data)
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	frame := []byte(`{"type":"subscribe","id":"17","data":{"channels":["token.BTC.trade","token.ETH.>","user.42.favorites"]}}`)
	var cmd Command
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		if err := Decode(frame, &cmd); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodePublish(b *testing.B) {
	body := []byte(`{"channel":"token.BTC.trade","data":{"price":"43250.5","size":"0.25","side":"buy"}}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := DecodePublish(body); err != nil {
			b.Fatal(err)
		}
	}
}
