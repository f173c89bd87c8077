package deflate

import (
	"encoding/binary"
	"math/bits"
	"slices"
)

// window keeps the last size bytes written to it: the inflated output a
// peer may refer back to, or the plaintext a Compressor uses as its
// dictionary. Its buffer grows with what was written (doubling while it
// is at most a quarter of size, then straight to size), so a connection
// that exchanged little keeps little;
// once size bytes were written it is a ring of exactly size bytes.
type window struct {
	size int
	buf  []byte // len(buf) valid bytes while !full; a ring of size bytes once full
	pos  int    // next write position in the ring (when full)
	full bool   // buf holds size valid bytes
}

// minWindowAlloc is the first allocation of a growing window, so that tiny
// messages do not cause a chain of reallocations.
const minWindowAlloc = 512

// write records p as the newest bytes.
func (w *window) write(p []byte) {
	if len(p) == 0 {
		return
	}
	if !w.full {
		if len(w.buf)+len(p) < w.size {
			w.grow(len(w.buf) + len(p))
			w.buf = append(w.buf, p...)
			return
		}
		// This write fills the window: switch to a ring of exactly size
		// bytes holding the last size bytes of buf+p.
		w.grow(w.size)
		keep := max(0, w.size-len(p)) // bytes of buf still inside the window
		n := copy(w.buf[:keep], w.buf[len(w.buf)-keep:])
		w.buf = w.buf[:w.size]
		copy(w.buf[n:], p[len(p)-(w.size-n):])
		w.pos, w.full = 0, true
		return
	}
	if len(p) >= w.size {
		copy(w.buf, p[len(p)-w.size:])
		w.pos = 0
		return
	}
	n := copy(w.buf[w.pos:], p)
	if n < len(p) {
		w.pos = copy(w.buf, p[n:])
		return
	}
	w.pos += n
	if w.pos == w.size {
		w.pos = 0
	}
}

// grow makes room for need bytes (need <= size): it doubles the capacity
// while the result is at most size/4, and beyond that allocates size. So
// filling a window from empty allocates at most size/2 + size in all (48
// KiB for 32 KiB, 40 KiB when one message fills it in 4 KiB reads; doubling
// all the way would be 64 KiB), which matters because the read limit's
// allocation bound has to cover it, while a connection that sent a 1 KiB
// message still keeps about 1 KiB.
func (w *window) grow(need int) {
	if need <= cap(w.buf) {
		return
	}
	c := max(need, 2*cap(w.buf), minWindowAlloc)
	if c > w.size/4 {
		c = w.size
	}
	nb := make([]byte, len(w.buf), c)
	copy(nb, w.buf)
	w.buf = nb
}

// bytes returns the recorded bytes, oldest first, as one slice of buf. It
// rotates the ring in place when needed; the result is valid until the next
// write.
func (w *window) bytes() []byte {
	if !w.full {
		return w.buf
	}
	if w.pos != 0 {
		// Rotate left by pos: oldest byte (buf[pos]) moves to buf[0].
		reverseBytes(w.buf[:w.pos])
		reverseBytes(w.buf[w.pos:])
		reverseBytes(w.buf)
		w.pos = 0
	}
	return w.buf
}

// kept returns the bytes of memory the window holds.
func (w *window) kept() int { return cap(w.buf) }

// drop forgets the bytes and frees the buffer.
func (w *window) drop() {
	w.buf, w.pos, w.full = nil, 0, false
}

// reverseBytes reverses b in place, eight bytes at a time where it can.
func reverseBytes(b []byte) {
	i, j := 0, len(b)
	for j-i >= 16 {
		x := binary.LittleEndian.Uint64(b[i:])
		y := binary.LittleEndian.Uint64(b[j-8:])
		binary.LittleEndian.PutUint64(b[i:], bits.ReverseBytes64(y))
		binary.LittleEndian.PutUint64(b[j-8:], bits.ReverseBytes64(x))
		i, j = i+8, j-8
	}
	slices.Reverse(b[i:j])
}
