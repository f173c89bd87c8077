package deflate

import (
	"bytes"
	"compress/flate"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a dst that keeps every Write separately.
type recorder struct {
	writes [][]byte
}

func (r *recorder) Write(p []byte) (int, error) {
	r.writes = append(r.writes, append([]byte(nil), p...))
	return len(p), nil
}

func (r *recorder) bytes() []byte { return bytes.Join(r.writes, nil) }

// TestWriterMatchesCompress writes messages through the streaming Writer in
// pieces of various sizes and checks that the result decodes, respects the
// window, and equals Compress's output when written in one piece.
func TestWriterMatchesCompress(t *testing.T) {
	small := [][]byte{nil, []byte("Hello"), jsonMessage(1, 2000), randomBytes(3, 3000)}
	large := [][]byte{nil, []byte("Hello"), jsonMessage(1, 16<<10), mixedBytes(2, 70_000), randomBytes(3, 3000)}
	for _, wb := range []int{8, 9, 12, 15} {
		for _, takeover := range []bool{false, true} {
			for _, level := range []int{flate.HuffmanOnly, flate.NoCompression, flate.BestSpeed, 6} {
				for _, piece := range []int{1, 3, 4, 5, 1000, 1 << 20} {
					name := fmt.Sprintf("wb=%d/takeover=%t/level=%d/piece=%d", wb, takeover, level, piece)
					msgs := large
					if piece < 8 {
						msgs = small // tiny writes exercise the hold-back logic
					}
					t.Run(name, func(t *testing.T) {
						checkStreaming(t, wb, takeover, level, piece, msgs)
					})
				}
			}
		}
	}
}

func checkStreaming(t *testing.T, wb int, takeover bool, level, piece int, msgs [][]byte) {
	stream := NewCompressor(level, wb, takeover)
	defer stream.Release()
	whole := NewCompressor(level, wb, takeover)
	defer whole.Release()
	d := NewDecompressor(takeover, wb)
	defer d.Release()
	var hist []byte
	for i, msg := range msgs {
		var rec recorder
		w := stream.Writer(&rec)
		for p := msg; len(p) > 0; {
			n := min(piece, len(p))
			k, err := w.Write(p[:n])
			require.NoError(t, err)
			require.Equal(t, n, k)
			p = p[n:]
		}
		require.NoError(t, w.Close())
		wire := rec.bytes()

		out, maxDist, err := testInflate(lastBytes(hist, 1<<wb), wireTail(wire))
		require.NoError(t, err, "message %d", i)
		require.Equal(t, orEmpty(msg), orEmpty(out), "message %d", i)
		require.LessOrEqual(t, maxDist, 1<<wb, "message %d", i)

		d.Reset(bytes.NewReader(wire))
		got, err := readAll(d)
		require.NoError(t, err)
		require.Equal(t, orEmpty(msg), orEmpty(got), "message %d", i)

		want, err := whole.Compress(nil, msg)
		require.NoError(t, err)
		if piece >= len(msg) {
			assert.Equal(t, want, wire, "message %d: one Write must equal Compress", i)
		}
		if takeover {
			hist = append(hist, msg...)
		}
	}
}

// TestWriterStreamsOutput checks that compressed bytes reach dst before
// Close for a large message, and that only the 4-byte tail is held back.
func TestWriterStreamsOutput(t *testing.T) {
	c := NewCompressor(flate.BestSpeed, 15, false)
	defer c.Release()
	var rec recorder
	w := c.Writer(&rec)
	msg := randomBytes(9, 300_000)
	_, err := w.Write(msg)
	require.NoError(t, err)
	before := len(rec.bytes())
	assert.Greater(t, before, 200_000, "output must be streamed, not buffered until Close")
	require.NoError(t, w.Close())
	assert.Equal(t, msg, stdlibInflate(t, nil, rec.bytes()))
}

// TestSinkHoldBack drives the sink directly with random write sizes.
func TestSinkHoldBack(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for iter := range 200 {
		data := randomBytes(uint64(iter), r.IntN(40))
		var rec recorder
		s := sink{w: &rec}
		for p := data; len(p) > 0; {
			n := min(len(p), r.IntN(7))
			k, err := s.Write(p[:n])
			require.NoError(t, err)
			require.Equal(t, n, k)
			p = p[n:]
		}
		held := min(len(data), 4)
		require.Equal(t, orEmpty(data[:len(data)-held]), orEmpty(rec.bytes()))
		require.Equal(t, data[len(data)-held:], s.hold[:s.nhold])
	}
}
