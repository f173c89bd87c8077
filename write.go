package websocket

import (
	"crypto/rand"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/wsup/websocket/frame"
)

// errWriterClosed is returned by a message writer used after Close.
var errWriterClosed = errors.New("websocket: write to a closed message writer")

// defaultWriteStallTimeout bounds how long a write may make no progress
// when neither SetWriteDeadline nor the Upgrader's WriteTimeout set a
// deadline: a peer that stops reading then fails the write with a timeout
// instead of blocking the writer forever. It is a variable so that tests
// can lower it. Not enforced yet: the write path does not consult it.
var defaultWriteStallTimeout = 30 * time.Second

// WriteMessage writes one whole message. Data messages (TextMessage,
// BinaryMessage) go out as a single frame; control types are sent as by
// WriteControl with no deadline but the one SetWriteDeadline set. It returns
// ErrBadMessageType for any other type, ErrCloseSent after a close frame was
// sent, and the network error after a failed write (the connection is then
// broken for writing). It is safe for concurrent use: concurrent messages are
// written one after the other, never interleaved.
func (c *Conn) WriteMessage(messageType int, data []byte) error {
	switch messageType {
	case TextMessage, BinaryMessage:
	case CloseMessage, PingMessage, PongMessage:
		return c.WriteControl(messageType, data, time.Time{})
	default:
		return ErrBadMessageType
	}
	c.msgMu <- struct{}{}
	defer c.unlockMsg()
	return c.writeDataLocked(messageType, data)
}

// writeDataLocked writes a whole data message, compressed when that is on
// and the message is not under the threshold. The caller holds msgMu.
func (c *Conn) writeDataLocked(messageType int, data []byte) error {
	if comp := c.compressorLocked(); comp != nil && len(data) >= c.compress.threshold {
		return c.writeCompressedLocked(comp, frame.Opcode(messageType), data)
	}
	return c.writeFrame(frame.Opcode(messageType), true, data)
}

// WriteControl writes a control message (CloseMessage, PingMessage or
// PongMessage) with a payload of at most 125 bytes. It waits for the frame
// in progress, if any, to go out, but no longer than deadline (a zero
// deadline waits as long as SetWriteDeadline allows); a control frame may
// go out between the fragments of a message written with NextWriter.
// After a CloseMessage is sent, every later write returns ErrCloseSent.
// It returns ErrBadMessageType or ErrControlTooLong for bad arguments, and a
// net.Error whose Timeout is true when the deadline passes. It is safe for
// concurrent use.
func (c *Conn) WriteControl(messageType int, data []byte, deadline time.Time) error {
	switch messageType {
	case CloseMessage, PingMessage, PongMessage:
	default:
		return ErrBadMessageType
	}
	if len(data) > frame.MaxControlPayload {
		return ErrControlTooLong
	}
	if err := c.acquireFrame(deadline); err != nil {
		return err
	}
	defer c.releaseFrame()
	return c.writeControlLocked(messageType, data, deadline)
}

// writeControlLocked writes a control frame; the caller checked the
// arguments and holds the frame lock.
func (c *Conn) writeControlLocked(messageType int, data []byte, deadline time.Time) error {
	if c.closeSent {
		return ErrCloseSent
	}
	h := frame.Header{Fin: true, Opcode: frame.Opcode(messageType), Length: int64(len(data))}
	c.maskHeader(&h)
	bp := getPooledBuf(frame.MaxHeaderSize + frame.MaxControlPayload)
	b, _ := frame.AppendHeader((*bp)[:0], h)
	start := len(b)
	b = append(b, data...)
	if h.Masked {
		frame.Mask(h.Key, 0, b[start:])
	}
	dl := timeToNs(deadline)
	if dl == 0 {
		dl = c.frameDeadline()
	}
	err := c.writeLocked(dl, b, nil)
	putPooledBuf(bp)
	if err != nil {
		return err
	}
	if messageType == CloseMessage {
		c.closeSent = true
		code := CloseNoStatusReceived
		if len(data) >= 2 {
			code = int(data[0])<<8 | int(data[1])
		}
		c.sentCloseCode.CompareAndSwap(0, int32(code))
	}
	return nil
}

// NextWriter returns a writer for a new data message of the given type
// (TextMessage or BinaryMessage). The message goes out in fragments as the
// write buffer fills; Close sends the final fragment and must be called.
// Until then other data writes wait (control frames do not). It returns
// ErrBadMessageType for another type. It is safe for concurrent use; the
// returned writer is for one goroutine.
func (c *Conn) NextWriter(messageType int) (io.WriteCloser, error) {
	if messageType != TextMessage && messageType != BinaryMessage {
		return nil, ErrBadMessageType
	}
	c.msgMu <- struct{}{}
	w := &messageWriter{c: c, opcode: frame.Opcode(messageType)}
	w.buf = c.getWriteBuf()
	w.n = frame.MaxHeaderSize
	if comp := c.compressorLocked(); comp != nil {
		// Compressed bytes flow into the fragment writer; RSV1 marks the
		// first fragment.
		w.rsv1 = true
		w.deflate = comp.Writer(&w.raw)
		w.raw.w = w
	}
	return w, nil
}

// messageWriter streams one data message as fragments.
type messageWriter struct {
	c       *Conn
	opcode  frame.Opcode // of the next frame: the message's, then continuation
	buf     *[]byte      // pooled; the first MaxHeaderSize bytes are kept for a header
	n       int          // bytes used in *buf, header space included
	err     error
	rsv1    bool           // set RSV1 on the next frame (first of a compressed message)
	deflate io.WriteCloser // non-nil for a compressed message
	raw     rawWriter      // where deflate writes compressed bytes
}

// rawWriter writes into a messageWriter's fragments, bypassing compression.
type rawWriter struct{ w *messageWriter }

func (r *rawWriter) Write(p []byte) (int, error) { return r.w.writeRaw(p) }

// Write compresses p when the message is compressed, and buffers it,
// sending full buffers as fragments.
func (w *messageWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.deflate != nil {
		n, err := w.deflate.Write(p)
		if err != nil && w.err == nil {
			w.err = err
		}
		return n, err
	}
	return w.writeRaw(p)
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

// flush sends the buffered bytes followed by extra as one frame.
func (w *messageWriter) flush(final bool, extra []byte) error {
	err := w.c.writeFrameBuf(w.opcode, final, w.rsv1, *w.buf, w.n, extra)
	w.opcode = frame.OpContinuation
	w.rsv1 = false
	w.n = frame.MaxHeaderSize
	if err != nil {
		w.err = err
	}
	return err
}

// Close sends the last fragment and releases the connection for the next
// message. It returns the write error, if any; a second Close returns
// errWriterClosed.
func (w *messageWriter) Close() error {
	if w.buf == nil {
		return errWriterClosed
	}
	err := w.err
	if err == nil && w.deflate != nil {
		err = w.deflate.Close()
	}
	if err == nil {
		err = w.flush(true, nil)
	}
	w.c.putWriteBuf(w.buf)
	w.buf = nil
	w.err = errWriterClosed
	w.c.unlockMsg()
	return err
}

// writeFrame writes one data frame with payload data. The caller holds
// msgMu.
func (c *Conn) writeFrame(op frame.Opcode, final bool, data []byte) error {
	if c.isServer && len(data) > c.writeBufSize {
		// Large unmasked payloads go out without a copy.
		return c.writeFrameBuf(op, final, false, nil, 0, data)
	}
	bp := c.getWriteBuf()
	buf := *bp
	n := frame.MaxHeaderSize + copy(buf[frame.MaxHeaderSize:], data)
	err := c.writeFrameBuf(op, final, false, buf, n, data[n-frame.MaxHeaderSize:])
	c.putWriteBuf(bp)
	return err
}

// writeFrameBuf writes one frame whose payload is buf[MaxHeaderSize:n]
// followed by extra. The first MaxHeaderSize bytes of buf are free for the
// header, so header and buffered payload go out in one write. Client frames
// are masked in place in buf, which then serves as scratch space to mask
// extra; extra itself is never modified. buf may be nil when there is no
// buffered payload.
func (c *Conn) writeFrameBuf(op frame.Opcode, final, rsv1 bool, buf []byte, n int, extra []byte) error {
	if err := c.acquireFrame(time.Time{}); err != nil {
		return err
	}
	defer c.releaseFrame()
	if c.closeSent {
		return ErrCloseSent
	}
	if buf == nil {
		if c.isServer {
			// Only the header goes out of buf.
			buf, n = c.hdrBuf[:], frame.MaxHeaderSize
		} else {
			// Client frames need scratch space to mask extra in.
			bp := c.getWriteBuf()
			defer c.putWriteBuf(bp)
			buf, n = *bp, frame.MaxHeaderSize
		}
	}
	c.dataFrames.Add(1)
	h := frame.Header{Fin: final, Rsv1: rsv1, Opcode: op, Length: int64(n - frame.MaxHeaderSize + len(extra))}
	c.maskHeader(&h)
	start := frame.MaxHeaderSize - h.Size()
	if _, err := frame.AppendHeader(buf[start:start], h); err != nil {
		return err
	}
	if !h.Masked {
		if len(extra) == 0 && c.holdLocked(buf[start:n]) {
			return nil
		}
		return c.writeLocked(c.frameDeadline(), buf[start:n], extra)
	}
	pos := frame.Mask(h.Key, 0, buf[frame.MaxHeaderSize:n])
	if len(extra) == 0 && c.holdLocked(buf[start:n]) {
		return nil
	}
	deadline := c.frameDeadline()
	if err := c.writeLocked(deadline, buf[start:n], nil); err != nil {
		return err
	}
	scratch := buf[frame.MaxHeaderSize:]
	for len(extra) > 0 {
		k := copy(scratch, extra)
		pos = frame.Mask(h.Key, pos, scratch[:k])
		if err := c.writeLocked(deadline, scratch[:k], nil); err != nil {
			return err
		}
		extra = extra[k:]
	}
	return nil
}

// maskHeader sets a fresh random masking key on client frames (RFC 6455
// section 5.3 requires keys the peer cannot predict).
func (c *Conn) maskHeader(h *frame.Header) {
	if c.isServer {
		return
	}
	h.Masked = true
	_, _ = rand.Read(h.Key[:])
}

// acquireFrame takes the frame lock, waiting no later than deadline (a
// zero deadline waits as long as it takes).
func (c *Conn) acquireFrame(deadline time.Time) error {
	return acquire(c.frameMu, deadline, nil)
}

// acquire takes the one-slot semaphore sem, giving up at deadline (zero:
// none) or when done is closed (nil: never). It returns errWriteTimeout at
// the deadline and errCanceled when done closes.
func acquire(sem chan struct{}, deadline time.Time, done <-chan struct{}) error {
	select {
	case sem <- struct{}{}:
		return nil
	default:
	}
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		d := time.Until(deadline)
		if d <= 0 {
			return errWriteTimeout
		}
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case sem <- struct{}{}:
		return nil
	case <-timeout:
		return errWriteTimeout
	case <-done:
		return errCanceled
	}
}

func (c *Conn) releaseFrame() { <-c.frameMu }

func (c *Conn) unlockMsg() { <-c.msgMu }

// tryAcquire takes the one-slot semaphore sem (msgMu, frameMu) if it is
// free, and reports whether it did.
func tryAcquire(sem chan struct{}) bool {
	select {
	case sem <- struct{}{}:
		return true
	default:
		return false
	}
}

// writeLocked writes b and then extra to the network connection under the
// given write deadline. A failed write is sticky: the stream may hold part
// of a frame, so nothing more can be written. The caller holds the frame
// lock.
func (c *Conn) writeLocked(deadlineNs int64, b, extra []byte) error {
	held, hp := c.takePendLocked()
	if c.writeErr != nil {
		if hp != nil {
			putPooledBuf(hp)
		}
		return c.writeErr
	}
	if deadlineNs != c.appliedWriteNs || c.deadlineReset.Load() {
		c.deadlineReset.Store(false)
		if err := c.conn.SetWriteDeadline(nsToTime(deadlineNs)); err != nil {
			c.writeErr = err
			if hp != nil {
				putPooledBuf(hp)
			}
			return err
		}
		c.appliedWriteNs = deadlineNs
		if c.deadlineReset.Load() {
			// A context ended meanwhile: its abort stands.
			_ = c.conn.SetWriteDeadline(aLongTimeAgo)
		}
	}
	if hp != nil && len(held)+len(b)+len(extra) <= cap(held) {
		// The held frames and this one go out from one buffer. held may
		// start past the buffer's start (bytes already sent), so it is
		// extended in place.
		n := len(held)
		n += copy(held[n:cap(held)], b)
		n += copy(held[n:cap(held)], extra)
		held, b, extra = nil, held[:n], nil
	}
	var err error
	if len(held) == 0 && len(extra) == 0 {
		_, err = c.conn.Write(b)
	} else {
		v := vectorPool.Get().(*vector)
		v.arr = [3][]byte{held, b, extra}
		v.bufs = v.arr[:]
		_, err = v.bufs.WriteTo(c.conn)
		v.arr, v.bufs = [3][]byte{}, nil
		vectorPool.Put(v)
	}
	if hp != nil {
		putPooledBuf(hp)
	}
	if err != nil {
		c.writeErr = err
	}
	return err
}

// vector is the argument of one vectored write (held frames, header and
// payload in one system call). Only long payloads and held frames that do
// not fit with the new frame are written so, so a pool serves them instead
// of a field in every Conn.
type vector struct {
	bufs net.Buffers
	arr  [3][]byte // backing array of bufs
}

var vectorPool = sync.Pool{New: func() any { return new(vector) }}

// getWriteBuf returns a buffer with room for a frame header and
// writeBufSize payload bytes: from the user's BufferPool when there is one,
// else from the shared size-classed pools.
func (c *Conn) getWriteBuf() *[]byte {
	need := frame.MaxHeaderSize + c.writeBufSize
	if c.writePool != nil {
		if bp, ok := c.writePool.Get().(*[]byte); ok && len(*bp) >= need {
			return bp
		}
		b := make([]byte, need)
		return &b
	}
	return getPooledBuf(need)
}

// putWriteBuf returns a buffer from getWriteBuf to its pool.
func (c *Conn) putWriteBuf(bp *[]byte) {
	if c.writePool != nil {
		c.writePool.Put(bp)
		return
	}
	putPooledBuf(bp)
}

// frameDeadline returns the write deadline for the next frame, in Unix
// nanoseconds (0: none): the one SetWriteDeadline set, brought forward by
// the Upgrader's WriteTimeout.
func (c *Conn) frameDeadline() int64 {
	dl := c.writeDeadlineNs.Load()
	if c.writeTimeout > 0 {
		if t := time.Now().Add(c.writeTimeout).UnixNano(); dl == 0 || t < dl {
			dl = t
		}
	}
	return dl
}
