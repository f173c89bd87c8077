package utf8x

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func benchInputs() []struct {
	name string
	data []byte
} {
	ascii := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 2000)
	mixed := strings.Repeat("Grüße, 世界! Ünïcödé text with 🌍 and plain ASCII words. ", 2000)
	var out []struct {
		name string
		data []byte
	}
	for _, n := range []int{32, 1 << 10, 64 << 10} {
		out = append(out,
			struct {
				name string
				data []byte
			}{fmt.Sprintf("ascii/%d", n), []byte(ascii[:n])},
			struct {
				name string
				data []byte
			}{fmt.Sprintf("mixed/%d", n), []byte(strings.ToValidUTF8(mixed[:n], ""))},
		)
	}
	return out
}

func BenchmarkValid(b *testing.B) {
	for _, in := range benchInputs() {
		if !utf8.Valid(in.data) {
			b.Fatalf("%s: benchmark input is not valid UTF-8", in.name)
		}
		b.Run("utf8x/"+in.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in.data)))
			for i := 0; i < b.N; i++ {
				if !Valid(in.data) {
					b.Fatal("invalid")
				}
			}
		})
		b.Run("stdlib/"+in.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in.data)))
			for i := 0; i < b.N; i++ {
				if !utf8.Valid(in.data) {
					b.Fatal("invalid")
				}
			}
		})
		// Fragmented input: 4 KiB pieces (or 7-byte pieces for small
		// inputs), so sequences straddle Write calls.
		piece := 4096
		if len(in.data) < piece {
			piece = 7
		}
		b.Run("validator/"+in.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in.data)))
			var v Validator
			for i := 0; i < b.N; i++ {
				v.Reset()
				for s := 0; s < len(in.data); s += piece {
					v.Write(in.data[s:min(s+piece, len(in.data))])
				}
				if !v.Complete() {
					b.Fatal("invalid")
				}
			}
		})
	}
}
