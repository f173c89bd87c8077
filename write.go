package websocket

import (
	"crypto/rand"
	"errors"
	"net"
	"os"
	"sync"
	"time"

	"github.com/wsup/websocket/frame"
)

// WriteMessage writes one whole message. Data messages (TextMessage,
// BinaryMessage) go out as a single frame; control types are sent as by
// WriteControl with no deadline but the one SetWriteDeadline set. It is
// safe for concurrent use: concurrent messages are written one after the
// other, never interleaved.
//
// It returns ErrBadMessageType for any other type, ErrCloseSent after a
// close frame was sent, and a timeout net.Error when the write deadline (or
// WriteTimeout) passed while it waited for another message to finish: then
// nothing was written and the connection is unchanged. A write that fails
// on the network, or that makes no progress within the write stall bound
// (see Upgrader.WriteTimeout), fails the connection: it is closed without
// a closing handshake (part of a frame may have gone out), every later
// write returns the same error, reads return it too, and so does Close.
//
// A nil error means the message was handed to the network connection, or
// is held back for at most 100µs by write coalescing, which sends it before
// anything that could lose it (see Upgrader.DisableWriteCoalescing).
func (c *Conn) WriteMessage(messageType int, data []byte) error {
	switch messageType {
	case TextMessage, BinaryMessage:
	case CloseMessage, PingMessage, PongMessage:
		return c.WriteControl(messageType, data, time.Time{})
	default:
		return ErrBadMessageType
	}
	if err := c.lockMsg(nil); err != nil {
		return err
	}
	defer c.unlockMsg()
	return c.writeDataLocked(messageType, data)
}

// writeDataLocked writes a whole data message, compressed when that is on
// and the message is not under the threshold. The caller holds msgMu.
func (c *Conn) writeDataLocked(messageType int, data []byte) error {
	if err := c.writeEndedErr(); err != nil {
		// Before the compressor: a writer that failed may have left it in
		// the middle of a message.
		return err
	}
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
		c.sentClose.Store(true)
		c.broadcast() // writers waiting for the message lock
		code := CloseNoStatusReceived
		if len(data) >= 2 {
			code = int(data[0])<<8 | int(data[1])
		}
		c.sentCloseCode.CompareAndSwap(0, int32(code))
	}
	return nil
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

// writeLocked writes b and then extra to the network connection, after
// the held-back frames, under the given write deadline and the stall bound.
// A failed write is sticky and fails the connection (once the frame lock is
// released): the stream may hold part of a frame, so nothing more can be
// written. The caller holds the frame lock.
func (c *Conn) writeLocked(deadlineNs int64, b, extra []byte) error {
	held, hp := c.takePendLocked()
	if c.writeErr != nil {
		if hp != nil {
			putPooledBuf(hp)
		}
		return c.writeErr
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
	err := c.writeBufsLocked(deadlineNs, held, b, extra)
	if hp != nil {
		putPooledBuf(hp)
	}
	if err != nil {
		c.failWriteLocked(err)
	}
	return err
}

// stallChunk is the most a write hands to the network connection under one
// stall deadline: a longer payload goes out in pieces of this size, each
// with a fresh bound, so that the stall bound limits the time without
// progress (a peer taking less than stallChunk per stall bound) rather than
// the time a whole message takes.
const stallChunk = 1 << 20

// writeBufsLocked writes held, b and extra, in one system call unless extra
// is longer than stallChunk.
func (c *Conn) writeBufsLocked(deadlineNs int64, held, b, extra []byte) error {
	stall := c.stallBound()
	if stall == 0 || len(extra) <= stallChunk {
		if err := c.applyWriteDeadlineLocked(deadlineNs, stall, false); err != nil {
			return err
		}
		return c.writeOutLocked(deadlineNs, stall, held, b, extra)
	}
	aborts := c.writeAborts.Load()
	first := extra[:stallChunk]
	extra = extra[stallChunk:]
	if err := c.applyWriteDeadlineLocked(deadlineNs, stall, true); err != nil {
		return err
	}
	if err := c.writeOutLocked(deadlineNs, stall, held, b, first); err != nil {
		return err
	}
	for len(extra) > 0 {
		if c.writeAborts.Load() != aborts {
			// A context ended between two pieces: the write fails as it
			// would have inside one.
			return c.writeOpError(os.ErrDeadlineExceeded)
		}
		k := min(len(extra), stallChunk)
		if err := c.applyWriteDeadlineLocked(deadlineNs, stall, true); err != nil {
			return err
		}
		if err := c.writeOutLocked(deadlineNs, stall, nil, nil, extra[:k]); err != nil {
			return err
		}
		extra = extra[k:]
	}
	return nil
}

// writeOutLocked writes held, b and extra (vectored when more than b), and
// goes on past a stall deadline that passed while the peer was still
// taking bytes (stallProgressLocked): the kernel wakes a blocked writer
// only once much of its queue has drained, so a slow reader can leave a
// write without progress of its own for a while.
func (c *Conn) writeOutLocked(deadlineNs int64, stall time.Duration, held, b, extra []byte) error {
	if len(held) == 0 && len(extra) == 0 {
		for {
			n, err := c.conn.Write(b)
			c.written += int64(n)
			if err == nil || !c.stallProgressLocked(err) {
				return err
			}
			b = b[n:]
			if err := c.applyWriteDeadlineLocked(deadlineNs, stall, true); err != nil {
				return err
			}
		}
	}
	v := vectorPool.Get().(*vector)
	defer func() {
		v.arr, v.bufs = [3][]byte{}, nil
		vectorPool.Put(v)
	}()
	v.arr = [3][]byte{held, b, extra}
	v.bufs = v.arr[:]
	for {
		n, err := v.bufs.WriteTo(c.conn) // consumes what it wrote
		c.written += n
		if err == nil || !c.stallProgressLocked(err) {
			return err
		}
		if err := c.applyWriteDeadlineLocked(deadlineNs, stall, true); err != nil {
			return err
		}
	}
}

// stallProgressLocked reports whether err is the stall deadline passing
// while the peer acknowledged bytes since it was set (or owed none), so
// the write may go on with a fresh bound. It can tell only on Linux, for plain TCP and Unix sockets (and a
// timed-out TLS write cannot go on): elsewhere the stall bound is the time
// one piece of at most stallChunk bytes takes.
func (c *Conn) stallProgressLocked(err error) bool {
	var ne net.Error
	if !c.appliedStall || c.leftAtApply < 0 || c.deadlineReset.Load() ||
		!errors.As(err, &ne) || !ne.Timeout() {
		return false
	}
	q, ok := kernelUnacked(c.conn)
	// Nothing unacknowledged: the deadline passed while the peer owed us
	// nothing (an idle spell). Else the peer must have acknowledged bytes
	// since the deadline was set.
	return ok && (q == 0 || c.written-int64(q) > c.leftAtApply)
}

// applyWriteDeadlineLocked sets conn's write deadline for the next write:
// deadlineNs (0: none), or now plus stall (0: none) if that is sooner. A
// stall deadline still at least half the bound away is kept (unless fresh),
// so that a stream of writes does not reset the socket's timer for each
// one.
func (c *Conn) applyWriteDeadlineLocked(deadlineNs int64, stall time.Duration, fresh bool) error {
	target, isStall := deadlineNs, false
	reset := c.deadlineReset.Load()
	if stall > 0 && !fresh && deadlineNs == 0 && c.appliedStall && c.leftAtApply >= 0 && !reset {
		// The kernel tells progress (Linux, plain sockets): a stall
		// deadline, even a past one, is checked for progress when a write
		// meets it (stallProgressLocked), so it need not move with each
		// write, and no clock is read.
		return nil
	}
	if stall > 0 && deadlineNs == 0 {
		// Only the stall bound: kept on the monotonic clock, which costs
		// one clock reading a write where time.Now costs two.
		now := c.monoNow()
		if !fresh && c.appliedStall && !reset && c.appliedStallMono-now >= int64(stall)/2 {
			return nil
		}
		c.appliedStallMono = now + int64(stall)
		target, isStall = c.clockBase.Add(time.Duration(c.appliedStallMono)).UnixNano(), true
	} else if stall > 0 {
		now := time.Now().UnixNano()
		if s := now + int64(stall); s < deadlineNs {
			if !fresh && c.appliedStall && !reset && c.appliedWriteNs-now >= int64(stall)/2 &&
				c.appliedWriteNs <= deadlineNs {
				return nil
			}
			c.appliedStallMono = c.monoNow() + int64(stall)
			target, isStall = s, true
		}
	}
	if target == c.appliedWriteNs && !reset {
		c.appliedStall = isStall
		return nil
	}
	c.deadlineReset.Store(false)
	if err := c.conn.SetWriteDeadline(nsToTime(target)); err != nil {
		if isStall {
			// A connection that takes no deadlines (some wrappers, HTTP/2
			// response writers) cannot have the stall bound: go without.
			c.noStallBound.Store(true)
			return nil
		}
		return err
	}
	c.appliedWriteNs, c.appliedStall = target, isStall
	c.leftAtApply = -1
	if isStall {
		if q, ok := kernelUnacked(c.conn); ok {
			c.leftAtApply = c.written - int64(q)
		}
	}
	if c.deadlineReset.Load() {
		// A context ended meanwhile: its abort stands.
		_ = c.conn.SetWriteDeadline(aLongTimeAgo)
	}
	return nil
}

// failWriteLocked records the failure of a write: it becomes the sticky
// write error, and the connection fails once the frame lock is released
// (failAfterWrite runs callbacks that must not run under it). The caller
// holds the frame lock.
func (c *Conn) failWriteLocked(err error) {
	if c.writeErr != nil {
		return
	}
	c.writeErr = err
	c.writeFail.Store(&causeBox{err})
	c.failPending = true
}

// stallBound returns the longest a write may go without progress, 0 for
// none: WriteTimeout when it is positive, none when it is negative, else
// defaultWriteStallTimeout.
func (c *Conn) stallBound() time.Duration {
	switch {
	case c.writeTimeout > 0:
		return c.writeTimeout
	case c.writeTimeout < 0 || c.noStallBound.Load():
		return 0
	}
	return defaultWriteStallTimeout.get()
}

// defaultWriteStallTimeout is the write stall bound of connections whose
// WriteTimeout is zero: a peer that takes no byte for this long is taken
// for dead. Tests lower it.
var defaultWriteStallTimeout = newDurationVar(30 * time.Second)

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

// monoNow returns the time on the monotonic clock, in nanoseconds since
// clockBase, which it sets on first use. The caller holds the frame lock.
func (c *Conn) monoNow() int64 {
	if c.clockBase.IsZero() {
		c.clockBase = time.Now()
	}
	return int64(time.Since(c.clockBase))
}
