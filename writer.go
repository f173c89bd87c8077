package websocket

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsup/websocket/frame"
)

var (
	// errWriterClosed is returned by a message writer used after Close.
	errWriterClosed = errors.New("websocket: write to a closed message writer")
	// errWriterEnded is returned by a message writer that another write
	// ended after it stayed open, unused, for the write stall bound.
	errWriterEnded = errors.New("websocket: message writer ended: left open while another write waited")
)

// NextWriter returns a writer for a new message of the given type.
//
// For a data message (TextMessage or BinaryMessage) the message goes out in
// fragments as the write buffer fills; Close sends the final fragment and
// must be called. While the message is going out (from its first fragment
// to Close) other data writes wait; control frames do not. A writer that is
// dropped before its first fragment went out holds nothing and sends
// nothing. One that holds the connection without a call for the write
// stall bound (see Upgrader.WriteTimeout) while another write waits is
// ended: its message is finished as it stands and its later calls return
// an error, so a writer left open, even by the goroutine that then asks
// for another, does not block the connection for good.
//
// For a control message (CloseMessage, PingMessage or PongMessage), as in
// gorilla/websocket, the writer collects the payload, at most 125 bytes: a
// Write that would take it past that returns ErrControlTooLong, and so
// does Close, which then sends nothing. Close sends the payload as one
// control frame, as WriteControl does with a zero deadline; the writer
// never holds up data messages.
//
// It returns ErrBadMessageType for another type, and ErrCloseSent or the
// connection's write error when no more messages can be written. It is
// safe for concurrent use; the returned writer is for one goroutine.
func (c *Conn) NextWriter(messageType int) (io.WriteCloser, error) {
	switch messageType {
	case TextMessage, BinaryMessage:
	case CloseMessage, PingMessage, PongMessage:
		if err := c.writeEndedErr(); err != nil {
			return nil, err
		}
		return &controlWriter{c: c, messageType: messageType}, nil
	default:
		return nil, ErrBadMessageType
	}
	if err := c.writeEndedErr(); err != nil {
		return nil, err
	}
	w := &messageWriter{c: c, opcode: frame.Opcode(messageType)}
	w.compressed = c.compress != nil && c.compressEnabled.Load()
	w.buf = c.getWriteBuf()
	w.n = frame.MaxHeaderSize
	return w, nil
}

// controlWriter collects the payload of a control message for NextWriter;
// Close sends it with WriteControl. It takes no write lock before Close.
type controlWriter struct {
	c           *Conn
	messageType int
	payload     [frame.MaxControlPayload]byte
	n           int   // bytes in payload
	err         error // sticky: ErrControlTooLong, or errWriterClosed after Close
}

// Write adds p to the payload.
func (w *controlWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if len(p) > len(w.payload)-w.n {
		w.err = ErrControlTooLong
		return 0, w.err
	}
	w.n += copy(w.payload[w.n:], p)
	return len(p), nil
}

// Close sends the control frame, unless the payload grew too long.
func (w *controlWriter) Close() error {
	if err := w.err; err != nil {
		w.err = errWriterClosed
		return err
	}
	w.err = errWriterClosed
	return w.c.WriteControl(w.messageType, w.payload[:w.n], time.Time{})
}

// messageWriter streams one data message as fragments.
type messageWriter struct {
	c *Conn
	// mu is held during each call, and by a waiting write that ends the
	// writer (idleWatch); the fields below are guarded by it.
	mu    sync.Mutex
	calls atomic.Uint64 // calls begun, for idleWatch

	opcode     frame.Opcode // of the next frame: the message's, then continuation
	buf        *[]byte      // pooled; the first MaxHeaderSize bytes are kept for a header
	n          int          // bytes used in *buf, header space included
	err        error
	locked     bool           // holds the message lock
	compressed bool           // the message is to be compressed
	rsv1       bool           // set RSV1 on the next frame (first of a compressed message)
	deflate    io.WriteCloser // non-nil once a compressed message started
	raw        rawWriter      // where deflate writes compressed bytes
}

// rawWriter writes into a messageWriter's fragments, bypassing compression.
type rawWriter struct{ w *messageWriter }

func (r *rawWriter) Write(p []byte) (int, error) { return r.w.writeRaw(p) }

// begin starts a call: it takes w.mu and counts the call.
func (w *messageWriter) begin() {
	w.mu.Lock()
	w.calls.Add(1)
}

// Write compresses p when the message is compressed, and buffers it,
// sending full buffers as fragments.
func (w *messageWriter) Write(p []byte) (int, error) {
	w.begin()
	defer w.mu.Unlock()
	return w.write(p)
}

// write is Write with w.mu held.
func (w *messageWriter) write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.compressed {
		if err := w.startCompressed(); err != nil {
			return 0, err
		}
	}
	if w.deflate != nil {
		n, err := w.deflate.Write(p)
		if err != nil {
			w.fail(err)
		}
		return n, err
	}
	return w.writeRaw(p)
}

// startCompressed takes the message lock and the compressor for a
// compressed message, once. Without a compressor (the connection closed
// meanwhile) the message goes uncompressed, and its write reports why.
func (w *messageWriter) startCompressed() error {
	if w.deflate != nil {
		return nil
	}
	if err := w.lock(); err != nil {
		return err
	}
	comp := w.c.compressorLocked()
	if comp == nil {
		w.compressed = false
		return nil
	}
	// Compressed bytes flow into the fragment writer; RSV1 marks the
	// first fragment.
	w.rsv1 = true
	w.raw.w = w
	w.deflate = comp.Writer(&w.raw)
	return nil
}

// lock takes the message lock, once.
func (w *messageWriter) lock() error {
	if w.locked {
		return nil
	}
	if err := w.c.lockMsg(nil); err != nil {
		w.err = err
		return err
	}
	if err := w.c.writeEndedErr(); err != nil {
		// (Before the compressor: a writer that failed may have left it
		// in the middle of a message.)
		w.c.unlockMsg()
		w.err = err
		return err
	}
	w.locked = true
	w.c.curWriter.Store(w)
	return nil
}

// unlock releases the message lock if w holds it.
func (w *messageWriter) unlock() {
	if w.locked {
		w.locked = false
		w.c.curWriter.CompareAndSwap(w, nil)
		w.c.unlockMsg()
	}
}

// fail makes err the writer's error. The message cannot be finished, so
// the message lock goes back at once (the connection has failed, or a
// close frame was sent: no data message can follow anyway).
func (w *messageWriter) fail(err error) {
	if w.err == nil {
		w.err = err
	}
	w.unlock()
}

// writeRaw buffers p as payload, sending full buffers as fragments.
func (w *messageWriter) writeRaw(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	total := len(p)
	buf := *w.buf
	for len(p) > 0 {
		if w.n == frame.MaxHeaderSize && len(p) >= len(buf)-frame.MaxHeaderSize && w.c.isServer {
			// A large write into an empty buffer goes out as its own
			// fragment without a copy.
			if err := w.flush(false, p); err != nil {
				return 0, err
			}
			return total, nil
		}
		k := copy(buf[w.n:], p)
		w.n += k
		p = p[k:]
		if w.n == len(buf) && len(p) > 0 {
			if err := w.flush(false, nil); err != nil {
				return 0, err
			}
		}
	}
	return total, nil
}

// flush sends the buffered bytes followed by extra as one frame, taking
// the message lock first if w does not hold it yet.
func (w *messageWriter) flush(final bool, extra []byte) error {
	if err := w.lock(); err != nil {
		return err
	}
	err := w.c.writeFrameBuf(w.opcode, final, w.rsv1, *w.buf, w.n, extra)
	w.opcode = frame.OpContinuation
	w.rsv1 = false
	w.n = frame.MaxHeaderSize
	if err != nil {
		w.fail(err)
	}
	return err
}

// Close sends the last fragment and releases the connection for the next
// message. It returns the write error, if any; a second Close returns
// errWriterClosed, and Close after the writer was ended errWriterEnded.
func (w *messageWriter) Close() error {
	w.begin()
	defer w.mu.Unlock()
	return w.finish(errWriterClosed)
}

// finish sends the last fragment (unless the writer failed), releases the
// buffer and the message lock, and leaves after as the writer's error.
func (w *messageWriter) finish(after error) error {
	if w.buf == nil {
		return w.err
	}
	err := w.err
	if err == nil && w.compressed {
		err = w.startCompressed()
	}
	if err == nil && w.deflate != nil {
		err = w.deflate.Close()
	}
	if err == nil {
		err = w.flush(true, nil)
	}
	w.c.putWriteBuf(w.buf)
	w.buf = nil
	w.err = after
	w.unlock()
	return err
}

// endIdle ends w for a write waiting for the message lock, if w made no
// call since the waiter counted calls and is not in one now. It reports
// whether w no longer holds the lock.
func (w *messageWriter) endIdle(calls uint64) bool {
	if !w.mu.TryLock() {
		return false
	}
	defer w.mu.Unlock()
	if !w.locked || w.buf == nil {
		return true
	}
	if w.calls.Load() != calls {
		return false
	}
	_ = w.finish(errWriterEnded)
	return true
}

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
