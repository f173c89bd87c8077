package websocket

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPoolSizeClasses: the size-class computation at its edges, including
// sizes past the largest class, which are never pooled.
func TestPoolSizeClasses(t *testing.T) {
	cases := []struct {
		n        int64
		getClass int // -1: not pooled
		putClass int // -1: dropped
	}{
		{n: -1, getClass: 0, putClass: -1},
		{n: 0, getClass: 0, putClass: -1},
		{n: 1, getClass: 0, putClass: 0},
		{n: 2, getClass: 1, putClass: 1},
		{n: 3, getClass: 2, putClass: -1},
		{n: 4096, getClass: 12, putClass: 12},
		{n: 4097, getClass: 13, putClass: -1},
		{n: 1 << 30, getClass: 30, putClass: 30},
		{n: 1 << 31, getClass: 31, putClass: 31},
		{n: 1<<31 + 1, getClass: -1, putClass: -1},
		{n: 1 << 32, getClass: -1, putClass: -1},
		{n: math.MaxInt64, getClass: -1, putClass: -1},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.n), func(t *testing.T) {
			if tc.n > math.MaxInt {
				t.Skip("larger than int on this platform")
			}
			n := int(tc.n)
			class, ok := getClass(n)
			if tc.getClass < 0 {
				assert.False(t, ok, "requests past the largest class bypass the pool")
			} else {
				require.True(t, ok)
				assert.Equal(t, tc.getClass, class)
				assert.Less(t, class, len(bufPools))
				assert.GreaterOrEqual(t, 1<<class, n, "class buffers hold the request")
			}
			class, ok = putClass(n)
			if tc.putClass < 0 {
				assert.False(t, ok, "buffer of %d bytes is not pooled", n)
			} else {
				require.True(t, ok)
				assert.Equal(t, tc.putClass, class)
				assert.Less(t, class, len(bufPools))
			}
		})
	}
}

// TestPooledBufLengths: getPooledBuf rounds small requests up to a power
// of two and putPooledBuf takes back only such buffers.
func TestPooledBufLengths(t *testing.T) {
	for _, tc := range []struct{ n, want int }{{0, 1}, {1, 1}, {2, 2}, {3, 4}, {4096, 4096}, {4097, 8192}} {
		bp := getPooledBuf(tc.n)
		require.NotNil(t, bp)
		assert.Len(t, *bp, tc.want, "getPooledBuf(%d)", tc.n)
		putPooledBuf(bp)
	}
	// Dropped, not pooled: a length that is no size class, and an empty
	// buffer (from a user's BufferPool).
	assert.NotPanics(t, func() {
		odd := make([]byte, 3000)
		putPooledBuf(&odd)
		var empty []byte
		putPooledBuf(&empty)
	})
}
