package deflate

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// wireTail completes a compressed message for a plain DEFLATE decoder: the
// removed sync tail and a final empty stored block.
func wireTail(msg []byte) []byte {
	out := append([]byte(nil), msg...)
	return append(out, inflateTail[:]...)
}

// jsonMessage returns a deterministic JSON document of about size bytes.
func jsonMessage(seed uint64, size int) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	names := []string{"alice", "bob", "carol", "dave", "erin", "frank"}
	var b strings.Builder
	b.WriteString(`{"items":[`)
	for i := 0; b.Len() < size-2; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"user":%q,"score":%d,"active":%t,"tags":["x%d","y%d"]}`,
			r.IntN(1_000_000), names[r.IntN(len(names))], r.IntN(100), r.IntN(2) == 0, r.IntN(50), r.IntN(50))
	}
	b.WriteString("]}")
	return []byte(b.String())
}

// randomBytes returns n deterministic pseudo-random bytes.
func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 11))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// mixedBytes repeats random snippets at random distances up to 40 KiB, so
// an unrestricted compressor would use long back-references.
func mixedBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 13))
	b := make([]byte, 0, n)
	for len(b) < n {
		if len(b) > 300 && r.IntN(3) > 0 {
			start := r.IntN(len(b) - 20)
			end := min(len(b), start+20+r.IntN(200))
			b = append(b, b[start:end]...)
			continue
		}
		for i := 0; i < 50; i++ {
			b = append(b, byte(r.Uint32()))
		}
	}
	return b[:n]
}

// stdlibInflate decodes a wire message with compress/flate, given the
// previous output for context takeover.
func stdlibInflate(t testing.TB, hist, msg []byte) []byte {
	t.Helper()
	fr := flate.NewReaderDict(bytes.NewReader(wireTail(msg)), hist)
	out, err := io.ReadAll(fr)
	require.NoError(t, err)
	return out
}

// readAll reads the current message of d with a small buffer.
func readAll(d *Decompressor) ([]byte, error) {
	var out []byte
	buf := make([]byte, 777)
	for {
		n, err := d.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// lastBytes returns the last n bytes of b (all of b if shorter).
func lastBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
