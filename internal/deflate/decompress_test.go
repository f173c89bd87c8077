package deflate

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"runtime"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rfcExamples are the "Hello" payloads of RFC 7692 section 7.2.3; each
// session is decoded by one Decompressor with context takeover.
var rfcExamples = []struct {
	name    string
	session [][]byte
}{
	{"7.2.3.1 literal", [][]byte{{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}}},
	{"7.2.3.2 sharing LZ77 window", [][]byte{
		{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00},
		{0xf2, 0x00, 0x11, 0x00, 0x00}}},
	{"7.2.3.3 no compression", [][]byte{{0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00}}},
	{"7.2.3.4 BFINAL set", [][]byte{{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00}}},
	{"7.2.3.5 two blocks", [][]byte{{0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00}}},
	{"final block without trailing byte", [][]byte{{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}}},
}

func TestDecompressRFCExamples(t *testing.T) {
	for _, tt := range rfcExamples {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecompressor(true, 15)
			defer d.Release()
			for i, payload := range tt.session {
				for _, src := range sources(payload) {
					d2 := NewDecompressor(true, 15)
					for _, prev := range tt.session[:i] {
						d2.Reset(bytes.NewReader(prev))
						_, err := readAll(d2)
						require.NoError(t, err)
					}
					d2.Reset(src)
					got, err := readAll(d2)
					require.NoError(t, err)
					assert.Equal(t, "Hello", string(got))
					d2.Release()
				}
				d.Reset(bytes.NewReader(payload))
				got, err := readAll(d)
				require.NoError(t, err)
				assert.Equal(t, "Hello", string(got))
			}
		})
	}
}

// sources returns readers of b with awkward chunking.
func sources(b []byte) []io.Reader {
	return []io.Reader{
		bytes.NewReader(b),
		iotest.OneByteReader(bytes.NewReader(b)),
		iotest.HalfReader(bytes.NewReader(b)),
		iotest.DataErrReader(bytes.NewReader(b)),
	}
}

// TestDecompressRestartAfterFinalBlock joins several complete DEFLATE
// streams (each ending with BFINAL) into one message; with context takeover
// a later stream may refer to an earlier one's output.
func TestDecompressRestartAfterFinalBlock(t *testing.T) {
	part := func(dict, data []byte) []byte {
		var buf bytes.Buffer
		fw, err := flate.NewWriterDict(&buf, flate.BestCompression, dict)
		require.NoError(t, err)
		_, err = fw.Write(data)
		require.NoError(t, err)
		require.NoError(t, fw.Close())
		return buf.Bytes()
	}
	a := jsonMessage(1, 3000)
	b := jsonMessage(1, 3000) // same text: refers to a via the dictionary
	wire := append(part(nil, a), part(a, b)...)
	wire = append(wire, part(append(a, b...), nil)...)
	d := NewDecompressor(true, 15)
	defer d.Release()
	for _, src := range sources(wire) {
		d.Reset(src)
		got, err := readAll(d)
		require.NoError(t, err)
		assert.Equal(t, string(a)+string(b), string(got))
	}
}

func TestDecompressCorrupt(t *testing.T) {
	hello, err := NewCompressor(flate.NoCompression, 15, false).Compress(nil, bytes.Repeat([]byte("Hello"), 20))
	require.NoError(t, err)
	tests := []struct {
		name string
		data []byte
	}{
		{"reserved block type", []byte{0x07, 0x00}},
		{"stored length mismatch", []byte{0x00, 0x05, 0x00, 0x00, 0x00, 'H'}},
		{"truncated stored block", hello[:50]},
		{"distance before start", []byte{0x02, 0x02, 0x00}}, // fixed block: length 3, distance 1, no history
		{"bad dynamic header", []byte{0x04, 0xff, 0xff, 0xff}},
		{"garbage", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, takeover := range []bool{false, true} {
				d := NewDecompressor(takeover, 15)
				d.Reset(bytes.NewReader(tt.data))
				_, err := readAll(d)
				require.ErrorIs(t, err, ErrCorrupt)
				_, err2 := d.Read(make([]byte, 10))
				assert.Equal(t, err, err2, "error must be sticky for the message")

				d.Reset(bytes.NewReader([]byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}))
				got, err := readAll(d)
				if takeover {
					assert.ErrorIs(t, err, ErrContextLost)
					assert.ErrorIs(t, err, ErrCorrupt)
				} else {
					assert.NoError(t, err)
					assert.Equal(t, "Hello", string(got))
				}
				d.Release()
			}
		})
	}
}

// TestDecompressWindowEnforcedAcrossMessages: a peer that refers further back
// than its negotiated window across messages is detected as corrupt.
func TestDecompressWindowEnforcedAcrossMessages(t *testing.T) {
	first := randomBytes(5, 1000)
	c := NewCompressor(6, 15, true)
	defer c.Release()
	m1, err := c.Compress(nil, first)
	require.NoError(t, err)
	m2, err := c.Compress(nil, first) // refers 1000 bytes back
	require.NoError(t, err)
	for _, tt := range []struct {
		wb int
		ok bool
	}{{8, false}, {9, false}, {10, true}, {15, true}} {
		d := NewDecompressor(true, tt.wb)
		d.Reset(bytes.NewReader(m1))
		_, err := readAll(d)
		require.NoError(t, err)
		d.Reset(bytes.NewReader(m2))
		got, err := readAll(d)
		if tt.ok {
			require.NoError(t, err, "wb=%d", tt.wb)
			assert.Equal(t, first, got)
		} else {
			assert.ErrorIs(t, err, ErrCorrupt, "wb=%d", tt.wb)
		}
		d.Release()
	}
}

var errSource = errors.New("source failed")

func TestDecompressSourceError(t *testing.T) {
	wire, err := NewCompressor(flate.BestSpeed, 15, false).Compress(nil, randomBytes(1, 20_000))
	require.NoError(t, err)
	for _, takeover := range []bool{false, true} {
		d := NewDecompressor(takeover, 15)
		d.Reset(io.MultiReader(bytes.NewReader(wire[:1000]), iotest.ErrReader(errSource)))
		_, err := readAll(d)
		require.ErrorIs(t, err, errSource)
		assert.NotErrorIs(t, err, ErrCorrupt, "a source error is not corruption")

		d.Reset(bytes.NewReader(wire))
		_, err = readAll(d)
		if takeover {
			assert.ErrorIs(t, err, ErrContextLost)
		} else {
			assert.NoError(t, err)
		}
		d.Release()
	}
}

// zeroReader returns (0, nil) for ever.
type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

func TestDecompressNoProgressSource(t *testing.T) {
	d := NewDecompressor(false, 15)
	defer d.Release()
	d.Reset(zeroReader{})
	_, err := readAll(d)
	assert.ErrorIs(t, err, io.ErrNoProgress)
}

func TestDecompressMisuse(t *testing.T) {
	hello := []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}
	d := NewDecompressor(false, 15)
	_, err := d.Read(make([]byte, 4))
	assert.ErrorIs(t, err, errNoMessage)

	d.Reset(bytes.NewReader(hello))
	n, err := d.Read(nil)
	assert.Zero(t, n)
	assert.NoError(t, err)
	got, err := readAll(d)
	require.NoError(t, err)
	assert.Equal(t, "Hello", string(got))
	n, err = d.Read(make([]byte, 4))
	assert.Zero(t, n)
	assert.Equal(t, io.EOF, err, "Read after the end keeps returning io.EOF")

	// Abandoning a message is fine without context takeover...
	d.Reset(bytes.NewReader(hello))
	_, err = d.Read(make([]byte, 2))
	require.NoError(t, err)
	d.Reset(bytes.NewReader(hello))
	got, err = readAll(d)
	require.NoError(t, err)
	assert.Equal(t, "Hello", string(got))

	d.Release()
	d.Reset(bytes.NewReader(hello))
	_, err = d.Read(make([]byte, 4))
	assert.ErrorIs(t, err, errDecReleased)

	// ...but loses the context with it.
	d = NewDecompressor(true, 15)
	defer d.Release()
	d.Reset(bytes.NewReader(hello))
	_, err = d.Read(make([]byte, 2))
	require.NoError(t, err)
	d.Reset(bytes.NewReader(hello))
	_, err = readAll(d)
	assert.ErrorIs(t, err, ErrContextLost)
}

// bombMessage returns one message that inflates to mib MiB of zeros: a
// compressed MiB of zeros, repeated (each copy is a self-contained run of
// non-final blocks ending with a sync flush).
func bombMessage(t testing.TB, mib int) []byte {
	c := NewCompressor(flate.BestCompression, 15, false)
	defer c.Release()
	chunk, err := c.Compress(nil, make([]byte, 1<<20))
	require.NoError(t, err)
	chunk = append(chunk, syncTail[:]...)
	msg := bytes.Repeat(chunk, mib)
	return msg[:len(msg)-len(syncTail)]
}

// TestDecompressBomb reads a message that would inflate to 128 MiB through
// a 1 MiB limit: Read hands out at most len(p) bytes per call, so the caller
// stops early, having read a fraction of the input and allocated little.
func TestDecompressBomb(t *testing.T) {
	const limit = 1 << 20
	bomb := bombMessage(t, 128)
	t.Logf("bomb: %d bytes inflating to 128 MiB", len(bomb))
	for _, takeover := range []bool{false, true} {
		src := bytes.NewReader(bomb)
		d := NewDecompressor(takeover, 15)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		d.Reset(src)
		buf := make([]byte, 32<<10)
		total := 0
		for total <= limit {
			n, err := d.Read(buf)
			require.NoError(t, err)
			require.LessOrEqual(t, n, len(buf))
			total += n
		}
		runtime.ReadMemStats(&after)
		d.Release()
		assert.LessOrEqual(t, total, limit+len(buf))
		assert.Greater(t, src.Len(), len(bomb)*9/10, "most of the input must stay unread")
		allocated := after.TotalAlloc - before.TotalAlloc
		t.Logf("takeover=%t: allocated %d bytes while reading %d", takeover, allocated, total)
		assert.Less(t, allocated, uint64(4<<20), "must not allocate the inflated size")
	}
}
