package websocket

import (
	"io"

	"github.com/wsup/websocket/frame"
)

// maxRelayFrame bounds the write buffer ReadFrom takes to relay a long
// frame of another message in one piece.
const maxRelayFrame = 1 << 20

// ReadFrom writes everything r returns, until io.EOF, into the message
// (io.Copy calls it). Bytes are read straight into the write buffer, and
// full buffers go out as fragments. When r is a message reader of this
// package in the middle of a long uncompressed frame, the buffer is sized
// to the rest of that frame (up to maxRelayFrame rounded up to a power of
// two; not when a WriteBufferPool supplies the buffers), so relaying a
// large message costs one write per frame and no copy. It returns the
// bytes read and the first read or write error.
func (w *messageWriter) ReadFrom(r io.Reader) (int64, error) {
	w.begin()
	defer w.mu.Unlock()
	if w.err != nil {
		return 0, w.err
	}
	if w.compressed {
		return w.copyCompressed(r)
	}
	mr, _ := r.(*messageReader)
	var total int64
	for {
		if mr != nil && w.n == frame.MaxHeaderSize {
			w.growFor(mr.frameRemaining())
		}
		if w.n == len(*w.buf) {
			if err := w.flush(false, nil); err != nil {
				return total, err
			}
		}
		k, err := r.Read((*w.buf)[w.n:])
		w.n += k
		total += int64(k)
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// growFor swaps the empty write buffer for a pooled one with room for n
// payload bytes (at most maxRelayFrame) when it has less.
func (w *messageWriter) growFor(n int64) {
	if w.c.writePool != nil || n <= int64(len(*w.buf)-frame.MaxHeaderSize) {
		return
	}
	bigger := getPooledBuf(frame.MaxHeaderSize + int(min(n, maxRelayFrame)))
	putPooledBuf(w.buf)
	w.buf = bigger
}

// copyCompressed is ReadFrom for a compressed message: r's bytes go
// through the compressor in pooled chunks.
func (w *messageWriter) copyCompressed(r io.Reader) (int64, error) {
	bp := getPooledBuf(defaultWriteBufferSize)
	defer putPooledBuf(bp)
	var total int64
	for {
		k, err := r.Read(*bp)
		if k > 0 {
			if _, werr := w.write((*bp)[:k]); werr != nil {
				return total, werr
			}
			total += int64(k)
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}
