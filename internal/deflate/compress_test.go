package deflate

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testLevels = []int{flate.HuffmanOnly, flate.NoCompression, flate.BestSpeed, 6, flate.BestCompression}

// sessionMessages returns the messages of one test session for a kind of
// data; sizes cross the 2^8..2^15 chunk boundaries and the 32 KiB window.
func sessionMessages(kind string) [][]byte {
	gen := map[string]func(seed uint64, n int) []byte{
		"json":   jsonMessage,
		"random": randomBytes,
		"mixed":  mixedBytes,
		"zeros":  func(uint64, int) []byte { return nil },
	}[kind]
	var msgs [][]byte
	for i, n := range []int{0, 1, 300, 5000, 40000, 256, 2049} {
		if kind == "zeros" {
			msgs = append(msgs, make([]byte, n))
			continue
		}
		m := gen(uint64(i), n)
		if n > 0 && len(m) > n {
			m = m[:n]
		}
		msgs = append(msgs, m)
	}
	// Repeat an earlier message: a context-takeover compressor would refer
	// to it across the message boundary.
	return append(msgs, msgs[3])
}

// TestCompressHonestWindow compresses sessions for every window size,
// context takeover setting and level, and checks every message three ways:
// an independent decoder reports no back-reference beyond 2^windowBits,
// compress/flate decodes it, and the Decompressor round-trips it.
func TestCompressHonestWindow(t *testing.T) {
	kinds := []string{"json", "random", "mixed", "zeros"}
	for wb := MinWindowBits; wb <= MaxWindowBits; wb++ {
		for _, takeover := range []bool{false, true} {
			for _, level := range testLevels {
				for _, kind := range kinds {
					name := fmt.Sprintf("wb=%d/takeover=%t/level=%d/%s", wb, takeover, level, kind)
					t.Run(name, func(t *testing.T) {
						checkSession(t, wb, takeover, level, sessionMessages(kind))
					})
				}
			}
		}
	}
}

// checkSession compresses msgs with one Compressor and verifies each
// message as described in TestCompressHonestWindow. It returns the total
// compressed size.
func checkSession(t testing.TB, wb int, takeover bool, level int, msgs [][]byte) int {
	c := NewCompressor(level, wb, takeover)
	defer c.Release()
	d := NewDecompressor(takeover, wb)
	defer d.Release()
	var hist []byte // all output so far when takeover
	total := 0
	for i, msg := range msgs {
		wire, err := c.Compress(nil, msg)
		require.NoError(t, err)
		total += len(wire)

		out, maxDist, err := testInflate(lastBytes(hist, 1<<wb), wireTail(wire))
		require.NoError(t, err, "message %d", i)
		require.Equal(t, msg, orEmpty(out), "message %d", i)
		require.LessOrEqual(t, maxDist, 1<<wb, "message %d: back-reference beyond the window", i)
		if level == flate.NoCompression || level == flate.HuffmanOnly {
			require.Zero(t, maxDist, "level %d must not emit back-references", level)
		}

		assert.Equal(t, msg, orEmpty(stdlibInflate(t, lastBytes(hist, 1<<wb), wire)), "message %d", i)

		d.Reset(bytes.NewReader(wire))
		got, err := readAll(d)
		require.NoError(t, err, "message %d", i)
		require.Equal(t, msg, orEmpty(got), "message %d", i)
		if takeover {
			hist = append(hist, msg...)
		}
	}
	return total
}

// orEmpty turns nil into an empty slice so nil and empty compare equal.
func orEmpty(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func TestCompressEmptyMessage(t *testing.T) {
	for _, level := range testLevels {
		for _, takeover := range []bool{false, true} {
			c := NewCompressor(level, 15, takeover)
			for range 2 {
				out, err := c.Compress(nil, nil)
				require.NoError(t, err)
				// RFC 7692 section 7.2.3.6: an empty message is one 0x00 byte.
				assert.Equal(t, []byte{0x00}, out, "level %d takeover %t", level, takeover)
			}
			c.Release()
		}
	}
}

func TestCompressAppendsToDst(t *testing.T) {
	c := NewCompressor(flate.BestSpeed, 15, false)
	defer c.Release()
	prefix := []byte("header")
	out, err := c.Compress(prefix, []byte("Hello"))
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(out, prefix))
	assert.Equal(t, []byte("Hello"), stdlibInflate(t, nil, out[len(prefix):]))
}

// TestContextTakeoverSavesBytes checks that context takeover pays off on
// repetitive JSON at every window size, and that the dictionary kept
// between messages stays within min(DictSize, 2^windowBits) bytes.
func TestContextTakeoverSavesBytes(t *testing.T) {
	var msgs [][]byte
	for i := range 40 {
		msgs = append(msgs, jsonMessage(uint64(i%4), 600))
	}
	for _, level := range []int{flate.BestSpeed, 6, flate.BestCompression} {
		for wb := MinWindowBits; wb <= MaxWindowBits; wb++ {
			with := checkSession(t, wb, true, level, msgs)
			without := checkSession(t, wb, false, level, msgs)
			t.Logf("level %d, wb %d: %d bytes with takeover, %d without", level, wb, with, without)
			if wb >= 10 {
				// The 600-byte messages repeat within the window.
				assert.Less(t, with, without*3/4, "level %d wb %d", level, wb)
			} else {
				assert.LessOrEqual(t, with, without*21/20, "level %d wb %d", level, wb)
			}
		}
	}
	for _, wb := range []int{8, 12, 13, 15} {
		c := NewCompressor(flate.BestSpeed, wb, true)
		for _, m := range msgs {
			_, err := c.Compress(nil, m)
			require.NoError(t, err)
		}
		assert.LessOrEqual(t, c.Kept(), min(DictSize, 1<<wb), "wb %d", wb)
		assert.Positive(t, c.Kept(), "wb %d", wb)
		c.Release()
		assert.Zero(t, c.Kept())
	}
}

func TestNewCompressorNormalizes(t *testing.T) {
	tests := []struct {
		level, wb, wantLevel, wantWB, wantDict int
		takeover, wantKeep                     bool
	}{
		{level: -1, wb: 15, wantLevel: 6, wantWB: 15, wantDict: DictSize},
		{level: 10, wb: 15, wantLevel: 6, wantWB: 15, wantDict: DictSize},
		{level: -3, wb: 15, wantLevel: 6, wantWB: 15, wantDict: DictSize},
		{level: 1, wb: 7, wantLevel: 1, wantWB: 8, wantDict: 256},
		{level: 1, wb: 16, wantLevel: 1, wantWB: 15, wantDict: DictSize, takeover: true, wantKeep: true},
		{level: 9, wb: 12, wantLevel: 9, wantWB: 12, wantDict: 4096, takeover: true, wantKeep: true},
		{level: 0, wb: 8, wantLevel: 0, wantWB: 15, wantDict: DictSize, takeover: true},
		{level: -2, wb: 8, wantLevel: -2, wantWB: 15, wantDict: DictSize, takeover: true},
	}
	for _, tt := range tests {
		c := NewCompressor(tt.level, tt.wb, tt.takeover)
		assert.Equal(t, tt.wantLevel, c.kind.level, "%+v", tt)
		assert.Equal(t, tt.wantWB, c.kind.windowBits, "%+v", tt)
		assert.Equal(t, tt.wantDict, c.dict.size, "%+v", tt)
		assert.Equal(t, tt.wantKeep, c.takeover, "%+v", tt)
	}
}

func TestCompressorMisuse(t *testing.T) {
	c := NewCompressor(1, 15, true)
	w := c.Writer(&bytes.Buffer{})
	_, err := c.Compress(nil, []byte("x"))
	assert.ErrorIs(t, err, errBusy)
	_, err = c.Writer(&bytes.Buffer{}).Write([]byte("x"))
	assert.ErrorIs(t, err, errBusy)
	require.NoError(t, w.Close())
	assert.ErrorIs(t, w.Close(), errWriterClosed)
	_, err = w.Write([]byte("x"))
	assert.ErrorIs(t, err, errWriterClosed)

	c.Release()
	dst := []byte("keep")
	out, err := c.Compress(dst, []byte("x"))
	assert.ErrorIs(t, err, errReleased)
	assert.Equal(t, dst, out)
	assert.ErrorIs(t, c.Writer(&bytes.Buffer{}).Close(), errReleased)
}

// TestCompressorRemember: a message sent as a shared frame compressed
// without history, then Remembered, becomes history that the next message
// refers to; the peer's Decompressor (which saw the shared frame) decodes
// both. A Compressor without history ignores Remember; a busy or released
// one reports it.
func TestCompressorRemember(t *testing.T) {
	// Smaller than the smallest window tested, so that all of it can be
	// referred to.
	shared := bytes.Join(sessionMessages("json"), nil)[:400]
	for _, wb := range []int{9, 12, 15} {
		t.Run(fmt.Sprintf("wb=%d", wb), func(t *testing.T) {
			c := NewCompressor(1, wb, true)
			defer c.Release()
			d := NewDecompressor(true, wb)
			defer d.Release()
			frameOnce := NewCompressor(1, wb, false)
			wire1, err := frameOnce.Compress(nil, shared)
			require.NoError(t, err)
			frameOnce.Release()
			require.NoError(t, c.Remember(shared))
			wire2, err := c.Compress(nil, shared)
			require.NoError(t, err)
			assert.Less(t, len(wire2), len(wire1)/2, "the second copy refers to the remembered one")
			for i, wire := range [][]byte{wire1, wire2} {
				d.Reset(bytes.NewReader(wire))
				got, err := readAll(d)
				require.NoError(t, err, "message %d", i)
				assert.Equal(t, shared, got, "message %d", i)
			}
		})
	}

	plain := NewCompressor(1, 15, false)
	require.NoError(t, plain.Remember(shared))
	assert.Zero(t, plain.Kept(), "no history without context takeover")
	plain.Release()

	c := NewCompressor(1, 15, true)
	w := c.Writer(&bytes.Buffer{})
	assert.ErrorIs(t, c.Remember(shared), errBusy)
	require.NoError(t, w.Close())
	c.Release()
	assert.ErrorIs(t, c.Remember(shared), errReleased)
}

// failAfter is a writer that fails once more than n bytes were written.
type failAfter struct {
	n   int
	buf bytes.Buffer
}

var errDst = errors.New("dst failed")

func (f *failAfter) Write(p []byte) (int, error) {
	if f.buf.Len()+len(p) > f.n {
		return 0, errDst
	}
	return f.buf.Write(p)
}

func TestWriterDstError(t *testing.T) {
	for _, takeover := range []bool{false, true} {
		c := NewCompressor(flate.NoCompression, 15, takeover)
		w := c.Writer(&failAfter{n: 10})
		_, err := w.Write(make([]byte, 100_000))
		assert.ErrorIs(t, err, errDst)
		assert.ErrorIs(t, w.Close(), errDst)
		// NoCompression never keeps a context, so the Compressor recovers.
		_, err = c.Compress(nil, []byte("next"))
		assert.NoError(t, err)
		c.Release()

		c = NewCompressor(flate.BestSpeed, 15, takeover)
		w = c.Writer(&failAfter{n: 10})
		_, err = w.Write(randomBytes(1, 100_000))
		assert.ErrorIs(t, err, errDst)
		assert.ErrorIs(t, w.Close(), errDst)
		_, err = c.Compress(nil, []byte("next"))
		if takeover {
			// The peer's view of our history is unknown: stay broken.
			assert.ErrorIs(t, err, errDst)
		} else {
			assert.NoError(t, err)
		}
		c.Release()
	}
}
