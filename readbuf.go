package websocket

import (
	"bufio"
	"errors"
	"io"
	"net"
	"syscall"
)

// hotReadFactor is how much larger than the read buffer size the next read
// on a plain socket is when the last one filled its buffer.
const hotReadFactor = 4

// minReadBufferSize is the smallest read buffer: it holds a whole control
// frame (header and payload), which the reader peeks at in one piece.
const minReadBufferSize = 256

// errReadBufferReleased is the error of a read buffer used after release;
// the Conn's sticky read error always comes first, so it is never seen.
var errReadBufferReleased = errors.New("websocket: read buffer released")

// readBuffer is the buffered reader a Conn parses frames from: bufio.Reader's
// Peek, Discard, Read and Buffered, but it owns no memory while it waits.
// Its buffer comes from the shared size-classed pools when bytes arrive and
// goes back when every byte was consumed and the next read has to wait, so
// an idle connection holds no read buffer:
//
//   - on a *net.TCPConn or *net.UnixConn (Unix), it waits for readability
//     through syscall.RawConn without a buffer, and takes one only to read
//     what arrived: the same system calls as a plain buffered read. When a
//     read fills its buffer (the peer is sending faster than one buffer
//     per read), the next read takes one hotReadFactor times larger, so
//     pipelined frames come in with fewer system calls;
//   - on other connections (TLS, wrappers), a read that starts with an empty
//     buffer goes into a small buffer (minReadBufferSize) unless the previous
//     read filled its buffer, a sign that more bytes are queued; the full
//     size is taken as soon as a frame needs more.
//
// It is used by the goroutine holding the Conn's readMu only.
type readBuffer struct {
	nc    net.Conn
	raw   syscall.RawConn       // non-nil when nc can be waited on without a buffer
	rawFn func(fd uintptr) bool // b.rawRead, bound once

	pb   *[]byte // pooled buffer, or nil
	buf  []byte  // *pb, or nil
	r, w int     // unread bytes are buf[r:w]
	size int     // length of a full buffer
	hot  bool    // the last read filled its buffer: more bytes are likely queued
	err  error   // error from nc, returned once the buffered bytes are used up

	// owner, when set, is told before every read from the connection
	// (write coalescing: see Conn.beforeNetRead).
	owner *Conn

	// hs holds bytes read before the Conn existed (net/http's reader after a
	// hijack, the Dialer's after the response). Its buffered bytes are
	// taken, and its buffer dropped, by the first read.
	hs *bufio.Reader
}

// init prepares b to read from nc after the bytes hs holds (hs may be nil),
// with full buffers of size bytes (<= 0: the default), between
// minReadBufferSize and maxBufferSize.
func (b *readBuffer) init(nc net.Conn, hs *bufio.Reader, size int) {
	b.nc = nc
	b.size = max(clampBufferSize(size, defaultReadBufferSize), minReadBufferSize)
	b.hs = hs
	if rc := rawConnOf(nc); rc != nil {
		b.raw = rc
		b.rawFn = b.rawRead
	}
}

// Buffered returns the number of bytes that can be read without a read
// from the connection.
func (b *readBuffer) Buffered() int { return b.w - b.r }

// Peek returns the next n bytes (n <= minReadBufferSize) without consuming
// them, reading from the connection while fewer are buffered. With fewer
// than n bytes it returns those and the error that stopped reading. The
// slice is valid until the next call on b.
func (b *readBuffer) Peek(n int) ([]byte, error) {
	for b.w-b.r < n {
		if b.err != nil {
			return b.buf[b.r:b.w], b.err
		}
		b.fill()
	}
	return b.buf[b.r : b.r+n], nil
}

// Discard skips the next n bytes, which must be buffered (it never skips
// past the buffered bytes).
func (b *readBuffer) Discard(n int) { b.r += min(n, b.w-b.r) }

// Read reads up to len(p) bytes: buffered bytes first, else one read from
// the connection (straight into p when p is at least a full buffer).
func (b *readBuffer) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if b.r == b.w {
		if b.err != nil {
			return 0, b.err
		}
		if len(p) >= b.size && b.hs == nil {
			if b.owner != nil {
				b.owner.beforeNetRead()
			}
			// Long payloads are read past the buffer: no need for a
			// larger one next time.
			b.hot = false
			n, err := b.nc.Read(p)
			if err != nil {
				b.err = err
			}
			return n, err
		}
		b.fill()
		if b.r == b.w {
			return 0, b.err
		}
	}
	n := copy(p, b.buf[b.r:b.w])
	b.r += n
	return n, nil
}

// await reads when nothing is buffered and no error is pending, so that
// the next Peek finds bytes (or the error) without reading.
func (b *readBuffer) await() {
	if b.r == b.w && b.err == nil {
		b.fill()
	}
}

// fill reads at least one more byte into the buffer, or sets b.err.
func (b *readBuffer) fill() {
	if b.hs != nil && b.takeHandshakeBytes() {
		return
	}
	if b.owner != nil {
		b.owner.beforeNetRead()
	}
	if b.r == b.w {
		b.r, b.w = 0, 0
		if b.raw != nil {
			b.rawFill()
			return
		}
		switch {
		case !b.hot && (b.pb == nil || len(b.buf) > minReadBufferSize):
			// Probably a wait: wait holding a small buffer only.
			b.release()
			b.acquire(minReadBufferSize)
		case b.hot && len(b.buf) < b.size:
			b.release()
			b.acquire(b.size)
		}
	} else {
		if b.r > 0 {
			b.w = copy(b.buf, b.buf[b.r:b.w])
			b.r = 0
		}
		if len(b.buf) < b.size {
			// A frame continues past the small buffer: more follows.
			old := b.pb
			b.pb = getPooledBuf(b.size)
			b.buf = *b.pb
			copy(b.buf, (*old)[:b.w])
			putPooledBuf(old)
		}
	}
	for range 100 {
		n, err := b.nc.Read(b.buf[b.w:])
		b.hot = b.w+n == len(b.buf)
		b.w += n
		if err != nil {
			b.err = err
			return
		}
		if n > 0 {
			return
		}
	}
	b.err = io.ErrNoProgress
}

// takeHandshakeBytes moves the bytes the handshake reader holds into b and
// drops that reader's buffer (nothing else reads it once the Conn exists).
// It reports whether there were any.
func (b *readBuffer) takeHandshakeBytes() bool {
	hs := b.hs
	b.hs = nil
	n := hs.Buffered()
	if n > 0 {
		b.release()
		b.acquire(max(n, b.size))
		pending, _ := hs.Peek(n)
		b.r, b.w = 0, copy(b.buf, pending)
	}
	*hs = bufio.Reader{}
	return n > 0
}

// acquire takes a pooled buffer of at least n bytes; b holds none.
func (b *readBuffer) acquire(n int) {
	b.pb = getPooledBuf(n)
	b.buf = *b.pb
}

// release gives the buffer back to the pool; its bytes must be unneeded.
func (b *readBuffer) release() {
	if b.pb != nil {
		putPooledBuf(b.pb)
		b.pb, b.buf = nil, nil
	}
}

// free releases the buffer for good, when the Conn stops reading.
func (b *readBuffer) free() {
	b.release()
	b.r, b.w = 0, 0
	b.hs = nil
	if b.err == nil {
		b.err = errReadBufferReleased
	}
}

// Bytes returns the buffered bytes without consuming them; valid until the
// next call on b.
func (b *readBuffer) Bytes() []byte { return b.buf[b.r:b.w] }
