package frame

import (
	"bytes"
	"fmt"
	"testing"
)

var benchSizes = []int{32, 1 << 10, 64 << 10, 1 << 20}

func BenchmarkMask(b *testing.B) {
	for _, n := range benchSizes {
		buf := patterned(n)
		b.Run(fmt.Sprintf("Mask/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for i := 0; i < b.N; i++ {
				Mask(testKey, i&3, buf)
			}
		})
		b.Run(fmt.Sprintf("Naive/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for i := 0; i < b.N; i++ {
				maskRef(testKey, i&3, buf)
			}
		})
		dst := make([]byte, n)
		b.Run(fmt.Sprintf("Copy/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for i := 0; i < b.N; i++ {
				copy(dst, buf)
			}
		})
	}
}

func BenchmarkParse(b *testing.B) {
	wire := []byte{0x82, 0xfe, 0x04, 0x00, 0x37, 0xfa, 0x21, 0x3d}
	b.ReportAllocs()
	var h Header
	for i := 0; i < b.N; i++ {
		h, _, _ = Parse(wire)
	}
	if h.Length != 1024 {
		b.Fatal("bad parse")
	}
}

func BenchmarkAppendHeader(b *testing.B) {
	h := Header{Fin: true, Opcode: OpBinary, Masked: true, Key: testKey, Length: 1024}
	dst := make([]byte, 0, MaxHeaderSize)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		dst, _ = AppendHeader(dst[:0], h)
	}
	if !bytes.Equal(dst, []byte{0x82, 0xfe, 0x04, 0x00, 0x37, 0xfa, 0x21, 0x3d}) {
		b.Fatal("bad append")
	}
}
