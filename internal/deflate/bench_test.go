package deflate

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"runtime"
	"testing"
)

// benchSession returns 16 KiB JSON messages that differ from one another
// but share structure, as a stream of API updates would.
func benchSession() [][]byte {
	msgs := make([][]byte, 8)
	for i := range msgs {
		msgs[i] = jsonMessage(uint64(i%3), 16<<10)
	}
	return msgs
}

// BenchmarkRoundTrip compresses and decompresses one 16 KiB JSON message per
// op, with and without context takeover, and reports the bytes on the wire.
func BenchmarkRoundTrip(b *testing.B) {
	msgs := benchSession()
	for _, level := range []int{flate.BestSpeed, 6} {
		for _, takeover := range []bool{false, true} {
			b.Run(fmt.Sprintf("level=%d/takeover=%t", level, takeover), func(b *testing.B) {
				c := NewCompressor(level, 15, takeover)
				defer c.Release()
				d := NewDecompressor(takeover, 15)
				defer d.Release()
				var wire []byte
				src := bytes.NewReader(nil)
				buf := make([]byte, 32<<10)
				wireBytes := 0
				b.SetBytes(16 << 10)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					msg := msgs[i%len(msgs)]
					var err error
					wire, err = c.Compress(wire[:0], msg)
					if err != nil {
						b.Fatal(err)
					}
					wireBytes += len(wire)
					src.Reset(wire)
					d.Reset(src)
					drain(b, d, buf)
				}
				b.ReportMetric(float64(wireBytes)/float64(b.N), "wire-B/msg")
			})
		}
	}
}

// BenchmarkCompressSmallWindow shows the cost of the honest small-window
// technique (a fresh flate stream every 2^windowBits input bytes).
func BenchmarkCompressSmallWindow(b *testing.B) {
	msg := jsonMessage(1, 16<<10)
	for _, level := range []int{flate.BestSpeed, 6} {
		for _, wb := range []int{8, 12, 15} {
			b.Run(fmt.Sprintf("level=%d/wb=%d", level, wb), func(b *testing.B) {
				c := NewCompressor(level, wb, false)
				defer c.Release()
				var wire []byte
				b.SetBytes(int64(len(msg)))
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					var err error
					if wire, err = c.Compress(wire[:0], msg); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(len(wire)), "wire-B/msg")
			})
		}
	}
}

// BenchmarkConnMemory reports the heap one connection's codec keeps
// between messages, after one message each way of 1, 16 or 64 KiB, per
// context takeover setting: the Compressor (its dictionary) and the
// Decompressor (its window); no writer or reader is kept. Pools are emptied
// first, so anything kept is counted. docs/compression.md quotes it.
func BenchmarkConnMemory(b *testing.B) {
	const conns = 64
	for _, size := range []int{1 << 10, 16 << 10, 64 << 10} {
		msg := jsonMessage(1, size)
		for _, takeover := range []bool{false, true} {
			b.Run(fmt.Sprintf("msg=%dKiB/takeover=%t", size>>10, takeover), func(b *testing.B) {
				b.ReportAllocs()
				var perConn float64
				for i := 0; i < b.N; i++ {
					cs := make([]*Compressor, conns)
					ds := make([]*Decompressor, conns)
					runtime.GC()
					runtime.GC() // empties sync.Pool and its victim cache
					var m0, m1 runtime.MemStats
					runtime.ReadMemStats(&m0)
					for j := range cs {
						cs[j] = NewCompressor(flate.BestSpeed, 15, takeover)
						wire, err := cs[j].Compress(nil, msg)
						if err != nil {
							b.Fatal(err)
						}
						ds[j] = NewDecompressor(takeover, 15)
						ds[j].Reset(bytes.NewReader(wire))
						if _, err := io.Copy(io.Discard, ds[j]); err != nil {
							b.Fatal(err)
						}
					}
					runtime.GC()
					runtime.GC()
					runtime.ReadMemStats(&m1)
					perConn = (float64(m1.HeapAlloc) - float64(m0.HeapAlloc)) / conns
					for j := range cs {
						cs[j].Release()
						ds[j].Release()
					}
				}
				b.ReportMetric(perConn, "kept-B/conn")
			})
		}
	}
}

// BenchmarkDecompress inflates one 16 KiB JSON message per op (compressed
// at level 1, as the server's default sends it), from a source that is not
// one of the reader types klauspost/compress special-cases, as a
// connection's frame source is not.
func BenchmarkDecompress(b *testing.B) {
	msgs := benchSession()
	for _, takeover := range []bool{false, true} {
		b.Run(fmt.Sprintf("takeover=%t", takeover), func(b *testing.B) {
			c := NewCompressor(flate.BestSpeed, 15, takeover)
			defer c.Release()
			wires := make([][]byte, len(msgs))
			for i, msg := range msgs {
				w, err := c.Compress(nil, msg)
				if err != nil {
					b.Fatal(err)
				}
				wires[i] = w
			}
			d := NewDecompressor(takeover, 15)
			defer d.Release()
			src := &opaqueReader{}
			buf := make([]byte, 32<<10)
			b.SetBytes(16 << 10)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				src.r.Reset(wires[i%len(wires)])
				d.Reset(src)
				drain(b, d, buf)
			}
		})
	}
}

// drain reads d's current message to io.EOF through buf.
func drain(b *testing.B, d *Decompressor, buf []byte) {
	for {
		_, err := d.Read(buf)
		if err == io.EOF {
			return
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

// opaqueReader hides a bytes.Reader's type, as a frame source would.
type opaqueReader struct{ r bytes.Reader }

func (o *opaqueReader) Read(p []byte) (int, error) { return o.r.Read(p) }
