package frame

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// maskRef is the obvious byte-at-a-time definition from RFC 6455 5.3.
func maskRef(key [4]byte, pos int, b []byte) int {
	for i := range b {
		b[i] ^= key[(pos+i)%4]
	}
	return (pos + len(b)) % 4
}

func patterned(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8 + 3)
	}
	return b
}

func checkMask(t *testing.T, key [4]byte, pos int, n int) {
	t.Helper()
	// Use an offset sub-slice with guard bytes on both sides to catch
	// out-of-range writes and alignment assumptions.
	const guard = 3
	orig := patterned(n + 2*guard)
	got := append([]byte{}, orig...)
	want := append([]byte{}, orig...)
	gotPos := Mask(key, pos, got[guard:guard+n])
	wantPos := maskRef(key, pos, want[guard:guard+n])
	require.Equal(t, wantPos, gotPos, "n=%d pos=%d", n, pos)
	require.Equal(t, want, got, "n=%d pos=%d", n, pos)
	// Masking is its own inverse.
	Mask(key, pos, got[guard:guard+n])
	require.Equal(t, orig, got, "n=%d pos=%d inverse", n, pos)
}

func TestMaskAgainstReference(t *testing.T) {
	keys := [][4]byte{testKey, {0, 0, 0, 0}, {0xff, 0xff, 0xff, 0xff}, {1, 2, 3, 4}}
	for _, key := range keys {
		for pos := 0; pos < 4; pos++ {
			for n := 0; n <= 64; n++ {
				checkMask(t, key, pos, n)
			}
			for _, n := range []int{127, 128, 129, 1000, 4093, 65536 + 5} {
				checkMask(t, key, pos, n)
			}
		}
	}
}

func TestMaskPosOutOfRange(t *testing.T) {
	// Only the low two bits of pos matter.
	for _, pos := range []int{4, 5, 7, 1 << 20, -1, -4} {
		got := patterned(40)
		want := patterned(40)
		assert.Equal(t, maskRef(testKey, pos&3, want), Mask(testKey, pos, got), "pos=%d", pos)
		assert.Equal(t, want, got, "pos=%d", pos)
	}
}

func TestMaskStreamingSplits(t *testing.T) {
	// Masking a payload in arbitrary chunks, threading pos through, must
	// match masking it in one call.
	data := patterned(300)
	want := append([]byte{}, data...)
	Mask(testKey, 0, want)
	for _, chunk := range []int{1, 3, 7, 8, 13, 64, 65, 299} {
		got := append([]byte{}, data...)
		pos := 0
		for i := 0; i < len(got); i += chunk {
			pos = Mask(testKey, pos, got[i:min(i+chunk, len(got))])
		}
		assert.Equal(t, want, got, "chunk=%d", chunk)
		assert.Equal(t, 0, pos, "chunk=%d", chunk)
	}
}

func TestMaskZeroAllocs(t *testing.T) {
	b := patterned(1024)
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		Mask(testKey, 1, b)
	}))
}
