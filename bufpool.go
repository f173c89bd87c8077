package websocket

import (
	"math/bits"
	"sync"
)

// bufPools holds pooled byte buffers by size class: pool i holds buffers of
// exactly 1<<i bytes. Read and write buffers share them, so a buffer that
// one connection's reader returns can serve another's writer.
var bufPools [32]sync.Pool

// getPooledBuf returns a pooled buffer of at least n bytes (n > 0): its
// length is n rounded up to a power of two.
func getPooledBuf(n int) *[]byte {
	class := bits.Len(uint(n - 1))
	if bp, ok := bufPools[class].Get().(*[]byte); ok {
		return bp
	}
	b := make([]byte, 1<<class)
	return &b
}

// putPooledBuf returns a buffer from getPooledBuf to its pool. A buffer
// whose length is not a power of two (from a user's BufferPool) is dropped.
func putPooledBuf(bp *[]byte) {
	n := len(*bp)
	if n == 0 || n&(n-1) != 0 {
		return
	}
	bufPools[bits.Len(uint(n-1))].Put(bp)
}
