package deflate

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// maxFuzzOutput bounds what FuzzDecompress inflates per message.
const maxFuzzOutput = 4 << 20

func FuzzDecompress(f *testing.F) {
	for _, tt := range rfcExamples {
		for _, m := range tt.session {
			f.Add(m, true, uint8(15), uint16(100))
		}
	}
	for _, b := range [][]byte{{0x07, 0x00}, {0x00, 0x05, 0x00, 0x00, 0x00, 'H'}, {0x02, 0x02, 0x00}, {0x04, 0xff, 0xff}, {}} {
		f.Add(b, false, uint8(8), uint16(1))
	}
	for i, level := range testLevels {
		wire, err := NewCompressor(level, 15, false).Compress(nil, jsonMessage(uint64(i), 2000))
		require.NoError(f, err)
		f.Add(wire, i%2 == 0, uint8(8+i), uint16(4000))
	}
	f.Fuzz(func(t *testing.T, data []byte, takeover bool, wb uint8, bufSize uint16) {
		d := NewDecompressor(takeover, int(wb))
		defer d.Release()
		buf := make([]byte, int(bufSize)%8192+1)
		// The same payload twice: the second message sees the first one's
		// history when takeover is on.
		for range 2 {
			d.Reset(bytes.NewReader(data))
			total := 0
			for total < maxFuzzOutput {
				n, err := d.Read(buf)
				require.GreaterOrEqual(t, n, 0)
				require.LessOrEqual(t, n, len(buf))
				total += n
				if err == io.EOF {
					break
				}
				if err != nil {
					require.True(t, errors.Is(err, ErrCorrupt) || errors.Is(err, ErrContextLost), "unexpected error %v", err)
					return
				}
			}
		}
	})
}

func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("Hello"), uint8(15), true, int8(6), uint16(3))
	f.Add([]byte{}, uint8(8), false, int8(1), uint16(0))
	f.Add(jsonMessage(1, 3000), uint8(8), true, int8(9), uint16(700))
	f.Add(mixedBytes(2, 5000), uint8(11), true, int8(-2), uint16(1))
	f.Add(randomBytes(3, 600), uint8(9), false, int8(0), uint16(256))
	f.Fuzz(fuzzRoundTripBody)
}

func fuzzRoundTripBody(t *testing.T, msg []byte, wbIn uint8, takeover bool, levelIn int8, piece uint16) {
	if len(msg) > 64<<10 {
		return // larger inputs only slow the fuzzer down
	}
	wb := MinWindowBits + int(wbIn)%(MaxWindowBits-MinWindowBits+1)
	level := int(levelIn)%(flate.BestCompression-flate.HuffmanOnly+1) + flate.HuffmanOnly
	if level < flate.HuffmanOnly {
		level += flate.BestCompression - flate.HuffmanOnly + 1
	}
	c := NewCompressor(level, wb, takeover)
	defer c.Release()
	d := NewDecompressor(takeover, wb)
	defer d.Release()
	half := msg[len(msg)/2:]
	var hist []byte
	for i, m := range [][]byte{msg, half, msg} {
		var wire []byte
		if i == 1 {
			var buf bytes.Buffer
			w := c.Writer(&buf)
			step := int(piece)%1024 + 1
			for p := m; len(p) > 0; p = p[min(step, len(p)):] {
				_, err := w.Write(p[:min(step, len(p))])
				require.NoError(t, err)
			}
			require.NoError(t, w.Close())
			wire = buf.Bytes()
		} else {
			var err error
			wire, err = c.Compress(nil, m)
			require.NoError(t, err)
		}
		out, maxDist, err := testInflate(lastBytes(hist, 1<<wb), wireTail(wire))
		require.NoError(t, err)
		require.Equal(t, orEmpty(m), orEmpty(out))
		require.LessOrEqual(t, maxDist, 1<<wb)

		d.Reset(bytes.NewReader(wire))
		got, err := readAll(d)
		require.NoError(t, err)
		assert.Equal(t, orEmpty(m), orEmpty(got))
		if takeover {
			hist = append(hist, m...)
		}
	}
}
