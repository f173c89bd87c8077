package deflate

import (
	"encoding/binary"
	"math/bits"
	"slices"
)

// window keeps the last size bytes of inflated output in a ring buffer of
// exactly size bytes, allocated on first use.
type window struct {
	size int
	buf  []byte
	pos  int  // next write position
	full bool // buf holds size valid bytes
}

// write records p as the newest output.
func (w *window) write(p []byte) {
	if len(p) == 0 {
		return
	}
	if w.buf == nil {
		w.buf = make([]byte, w.size)
	}
	if len(p) >= w.size {
		copy(w.buf, p[len(p)-w.size:])
		w.pos, w.full = 0, true
		return
	}
	n := copy(w.buf[w.pos:], p)
	if n < len(p) {
		w.pos = copy(w.buf, p[n:])
		w.full = true
		return
	}
	w.pos += n
	if w.pos == w.size {
		w.pos, w.full = 0, true
	}
}

// bytes returns the recorded output, oldest first, as one slice of buf. It
// rotates the ring in place when needed; the result is valid until the next
// write.
func (w *window) bytes() []byte {
	if !w.full {
		return w.buf[:w.pos]
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

// drop forgets the output and frees the buffer.
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
