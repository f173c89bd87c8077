package websocket

import (
	"math/bits"
	"sync"
)

// bufPools holds pooled byte buffers by size class: pool i holds buffers of
// exactly 1<<i bytes. Read and write buffers share them, so a buffer that
// one connection's reader returns can serve another's writer. Buffers
// larger than the largest class (2 GiB) are allocated for each use and
// never pooled.
var bufPools [32]sync.Pool

// getClass returns the size class whose buffers hold n bytes: the smallest
// i with 1<<i >= n (0 for n <= 1). ok is false when n is larger than the
// largest class.
func getClass(n int) (class int, ok bool) {
	if n <= 1 {
		return 0, true
	}
	class = bits.Len(uint(n - 1))
	// On 32-bit platforms, 1<<31 is no int: class 31 is not used there.
	return class, class < len(bufPools) && class < bits.UintSize-1
}

// putClass returns the size class a buffer of n bytes goes back to. ok is
// false when n is no class's size: zero, not a power of two (a buffer from
// a user's BufferPool, or allocated to fit), or past the largest class.
func putClass(n int) (class int, ok bool) {
	if n <= 0 || n&(n-1) != 0 {
		return 0, false
	}
	return getClass(n)
}

// getPooledBuf returns a buffer of at least n bytes: a pooled one whose
// length is n rounded up to a power of two (1 for n <= 1), or, past the
// largest class, a new one of exactly n bytes.
func getPooledBuf(n int) *[]byte {
	class, ok := getClass(n)
	if !ok {
		b := make([]byte, n)
		return &b
	}
	if bp, ok := bufPools[class].Get().(*[]byte); ok {
		return bp
	}
	b := make([]byte, 1<<class)
	return &b
}

// putPooledBuf returns a buffer from getPooledBuf to its pool. A buffer
// whose length is no size class is dropped (see putClass).
func putPooledBuf(bp *[]byte) {
	if class, ok := putClass(len(*bp)); ok {
		bufPools[class].Put(bp)
	}
}
