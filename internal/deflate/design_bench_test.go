package deflate

import (
	"bytes"
	stdflate "compress/flate"
	"fmt"
	"runtime"
	"testing"

	"github.com/klauspost/compress/flate"
)

// takeoverDesign is one way of compressing a connection's messages, for
// BenchmarkTakeoverDesign. compress appends one message's sync-flushed
// DEFLATE data to dst; what the design keeps between calls is what an idle
// connection would hold.
type takeoverDesign interface {
	compress(dst *bytes.Buffer, msg []byte)
}

// keptStd keeps one compress/flate writer per connection (wsup before
// klauspost/compress).
type keptStd struct {
	w   *stdflate.Writer
	out bytes.Buffer
}

func (k *keptStd) compress(dst *bytes.Buffer, msg []byte) {
	_, _ = k.w.Write(msg)
	_ = k.w.Flush()
	dst.Write(k.out.Bytes())
	k.out.Reset()
}

// keptKP keeps one klauspost/compress writer per connection.
type keptKP struct {
	w   *flate.Writer
	out bytes.Buffer
}

func (k *keptKP) compress(dst *bytes.Buffer, msg []byte) {
	_, _ = k.w.Write(msg)
	_ = k.w.Flush()
	dst.Write(k.out.Bytes())
	k.out.Reset()
}

// statelessDict keeps only a dictionary and compresses with
// flate.StatelessDeflate (at most 8 KiB of dictionary).
type statelessDict struct {
	dict window
}

func (s *statelessDict) compress(dst *bytes.Buffer, msg []byte) {
	_ = flate.StatelessDeflate(dst, msg, false, s.dict.bytes())
	s.dict.write(msg)
}

// pooledDict is the shipped design generalised to any dictionary size: a
// pooled writer primed with the last dictSize bytes sent (0: no takeover).
type pooledDict struct {
	c *Compressor
}

func (p *pooledDict) compress(dst *bytes.Buffer, msg []byte) {
	out, err := p.c.Compress(dst.AvailableBuffer(), msg)
	if err != nil {
		panic(err)
	}
	dst.Write(out)
}

func newPooledDict(level, dictSize int) takeoverDesign {
	c := NewCompressor(level, 15, dictSize > 0)
	if dictSize > 0 {
		c.dict.size = dictSize
	}
	return &pooledDict{c}
}

// BenchmarkTakeoverDesign compares ways to give a connection context
// takeover, on sessions of distinct JSON messages of 1, 4 and 16 KiB: CPU
// per message, wire bytes per message and the heap a connection keeps
// between messages (kept-B/conn, measured over 16 connections after 32
// messages each, pools emptied first). The shipped design is
// pooled+dict8k (and pooled+none without takeover).
func BenchmarkTakeoverDesign(b *testing.B) {
	designs := []struct {
		name string
		make func(level int) takeoverDesign
	}{
		{"kept-compress-flate", func(level int) takeoverDesign {
			k := &keptStd{}
			k.w, _ = stdflate.NewWriter(&k.out, level)
			return k
		}},
		{"kept-klauspost", func(level int) takeoverDesign {
			k := &keptKP{}
			k.w, _ = flate.NewWriter(&k.out, level)
			return k
		}},
		{"stateless+dict8k", func(int) takeoverDesign { return &statelessDict{dict: window{size: 8 << 10}} }},
		{"pooled+none", func(level int) takeoverDesign { return newPooledDict(level, 0) }},
		{"pooled+dict4k", func(level int) takeoverDesign { return newPooledDict(level, 4<<10) }},
		{"pooled+dict8k", func(level int) takeoverDesign { return newPooledDict(level, 8<<10) }},
		{"pooled+dict16k", func(level int) takeoverDesign { return newPooledDict(level, 16<<10) }},
		{"pooled+dict32k", func(level int) takeoverDesign { return newPooledDict(level, 32<<10) }},
	}
	for _, size := range []int{1 << 10, 4 << 10, 16 << 10} {
		// Distinct messages, more than a 32 KiB window's worth, so no
		// design sees an exact repeat.
		msgs := make([][]byte, 64)
		for i := range msgs {
			msgs[i] = jsonMessage(uint64(i), size)
		}
		for _, level := range []int{1, 6} {
			for _, d := range designs {
				b.Run(fmt.Sprintf("json%dk/level=%d/%s", size>>10, level, d.name), func(b *testing.B) {
					kept := keptPerConn(func() takeoverDesign { return d.make(level) }, msgs)
					e := d.make(level)
					var dst bytes.Buffer
					wire := 0
					b.SetBytes(int64(size))
					b.ReportAllocs()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						dst.Reset()
						e.compress(&dst, msgs[i%len(msgs)])
						wire += dst.Len()
					}
					b.ReportMetric(float64(wire)/float64(b.N), "wire-B/msg")
					b.ReportMetric(kept, "kept-B/conn")
				})
			}
		}
	}
}

// keptPerConn returns the heap 16 connections of a design keep after 32
// messages each, per connection.
func keptPerConn(mk func() takeoverDesign, msgs [][]byte) float64 {
	const conns = 16
	es := make([]takeoverDesign, conns)
	var dst bytes.Buffer
	runtime.GC()
	runtime.GC() // empties sync.Pool and its victim cache
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for i := range es {
		es[i] = mk()
		for j := range 32 {
			dst.Reset()
			es[i].compress(&dst, msgs[j%len(msgs)])
		}
	}
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m1)
	runtime.KeepAlive(es)
	return (float64(m1.HeapAlloc) - float64(m0.HeapAlloc)) / conns
}
