package deflate

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCompressAllocs guards zero allocations for steady-state Compress with
// a reused dst, for every kind of Compressor: pooled writer primed with a
// dictionary (takeover) or not, 15-bit or window-limited writer.
func TestCompressAllocs(t *testing.T) {
	msg := jsonMessage(1, 16<<10)
	for _, tt := range []struct {
		wb       int
		takeover bool
		pooled   bool
	}{
		{15, true, true},
		{15, false, true},
		{10, true, true},
		{10, false, true},
	} {
		t.Run(fmt.Sprintf("wb=%d/takeover=%t", tt.wb, tt.takeover), func(t *testing.T) {
			if tt.pooled && raceEnabled {
				t.Skip("the race detector makes sync.Pool drop items at random")
			}
			c := NewCompressor(flate.BestSpeed, tt.wb, tt.takeover)
			defer c.Release()
			dst := make([]byte, 0, 32<<10)
			var err error
			allocs := testing.AllocsPerRun(50, func() {
				dst, err = c.Compress(dst[:0], msg)
			})
			require.NoError(t, err)
			assert.Zero(t, allocs)
		})
	}
}

// TestWriterAllocs guards zero allocations for a streamed message.
func TestWriterAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items at random")
	}
	msg := jsonMessage(1, 16<<10)
	c := NewCompressor(flate.BestSpeed, 15, true)
	defer c.Release()
	var buf bytes.Buffer
	buf.Grow(64 << 10)
	allocs := testing.AllocsPerRun(50, func() {
		buf.Reset()
		w := c.Writer(&buf)
		_, _ = w.Write(msg[:5000])
		_, _ = w.Write(msg[5000:])
		_ = w.Close()
	})
	assert.Zero(t, allocs)
}

// TestDecompressAllocs guards zero allocations for steady-state Reset+Read
// when the DEFLATE data needs no Huffman link tables (stored or
// fixed-Huffman blocks). Dynamic blocks with codes longer than 9 bits make
// compress/flate allocate its link tables per block; that figure is
// reported by BenchmarkDecompress.
func TestDecompressAllocs(t *testing.T) {
	msg := jsonMessage(2, 8<<10)
	stored, err := NewCompressor(flate.NoCompression, 15, false).Compress(nil, msg)
	require.NoError(t, err)
	hello := []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00} // fixed Huffman
	for _, tt := range []struct {
		name     string
		wire     []byte
		takeover bool
	}{
		{"stored/takeover", stored, true},
		{"stored/no-takeover", stored, false},
		{"fixed/takeover", hello, true},
		{"fixed/no-takeover", hello, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if raceEnabled {
				t.Skip("the race detector makes sync.Pool drop items at random")
			}
			d := NewDecompressor(tt.takeover, 15)
			defer d.Release()
			src := bytes.NewReader(tt.wire)
			buf := make([]byte, 4096)
			var total int
			var rerr error
			allocs := testing.AllocsPerRun(50, func() {
				src.Reset(tt.wire)
				d.Reset(src)
				total = 0
				for {
					n, err := d.Read(buf)
					total += n
					if err != nil {
						if err != io.EOF {
							rerr = err
						}
						return
					}
				}
			})
			require.NoError(t, rerr)
			assert.Positive(t, total)
			assert.Zero(t, allocs)
		})
	}
}
