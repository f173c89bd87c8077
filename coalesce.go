package websocket

import (
	"errors"
	"net"
	"syscall"
	"time"
)

// Write coalescing.
//
// When the peer pipelines messages (several arrive in one read), a server
// that answers each one writes once per answer: one system call, and on a
// TCP connection one segment, per message. A Conn instead holds a small data
// frame back while the reader has the peer's next frame already buffered,
// and sends every held frame with the next write that is not held. Held
// bytes never wait long:
//
//   - the reader sends them before it reads from the network, that is, as
//     soon as the buffered input is used up, with a write that never waits
//     (on a plain socket, what the kernel takes at once; the rest, and
//     everything on TLS or HTTP/2, goes to the timer's goroutine at once),
//     so a peer that stops reading cannot stall the reader;
//   - any write that is not held (a larger frame, a control frame, Close)
//     sends them first, in the same system call when they fit;
//   - a timer sends them coalesceDelay after the first was held, in case
//     the application stops reading for a while;
//   - the peer's close frame sends them before the TCP connection closes,
//     and every close from this side sends them ahead of its close frame
//     (close.go);
//   - nothing is held within coalesceDelay of the write deadline, and
//     SetWriteDeadline sends what is held;
//   - NetConn sends them and turns holding off, since the application may
//     then close the connection itself.
//
// Should sending them fail, the connection fails (failAfterWrite): the
// next write, the reads and Close return the error.
//
// Order is kept (held bytes are always written before later ones) and so is
// the sticky write error: a failed flush makes every later write fail.

// coalesceDelay bounds how long a held frame waits. Tests raise it, so
// that only the paths under test can send what is held.
var coalesceDelay = newDurationVar(100 * time.Microsecond)

const (
	// coalesceBufSize is the size of the buffer held frames collect in; a
	// frame that does not fit with what is held is not held.
	coalesceBufSize = 16 << 10
)

// coalescer is the held-back state of a Conn, allocated when it first
// holds a frame (an idle or never-pipelined connection has none). Guarded
// by the frame lock.
type coalescer struct {
	pend  *[]byte // pooled, coalesceBufSize bytes; nil when nothing is held
	off   int     // bytes of *pend already sent (by flushNoWaitLocked)
	pendN int     // bytes held in *pend, sent ones included
	armed bool    // timer is set
	timer *time.Timer
	nw    noWaitWriter
}

// noWaitWriter writes through a RawConn without waiting (rawWriteNoWait);
// its callback is bound once, so a flush does not allocate.
type noWaitWriter struct {
	b   []byte
	n   int
	err error
	fn  func(fd uintptr) bool // write, bound once
}

// rawWriteNoWait writes as much of b as the socket rc takes now, never
// waiting for it to become writable. It returns the bytes written and the
// system call's error (EAGAIN is not one). An error of rc itself (a
// deadline that passed, a closed connection) is returned as a
// *rawWriteError with nothing written: the caller then leaves the write to
// a path that applies deadlines.
func (w *noWaitWriter) rawWriteNoWait(rc syscall.RawConn, b []byte) (int, error) {
	if w.fn == nil {
		w.fn = w.write
	}
	w.b, w.n, w.err = b, 0, nil
	err := rc.Write(w.fn)
	n, werr := w.n, w.err
	w.b, w.err = nil, nil
	if werr != nil {
		return n, werr
	}
	if err != nil {
		return n, &rawWriteError{err}
	}
	return n, nil
}

// holdLocked appends the frame b (complete, masked when needed) to the held
// bytes when coalescing applies, and reports whether it did. The caller
// holds the frame lock.
func (c *Conn) holdLocked(b []byte) bool {
	if !c.coalesce || !c.moreInput.Load() || c.writeErr != nil || c.noCoalesce.Load() {
		return false
	}
	if dl := c.frameDeadline(); dl != 0 && dl-time.Now().UnixNano() < int64(coalesceDelay.get()) {
		// Past the write deadline the write must fail, as unheld ones do;
		// close to it, it must go out now rather than miss it held.
		return false
	}
	co := c.co
	if co == nil {
		co = new(coalescer)
		c.co = co
	}
	if co.pendN+len(b) > coalesceBufSize {
		return false
	}
	if co.pend == nil {
		co.pend = getPooledBuf(coalesceBufSize)
	}
	co.pendN += copy((*co.pend)[co.pendN:], b)
	c.hasPend.Store(true)
	if !co.armed {
		co.armed = true
		if co.timer == nil {
			co.timer = time.AfterFunc(coalesceDelay.get(), c.flushOnTimer)
		} else {
			co.timer.Reset(coalesceDelay.get())
		}
	}
	return true
}

// takePendLocked returns the held bytes, to be written before anything
// else, and their buffer, which the caller gives back to the pool once they
// are written.
func (c *Conn) takePendLocked() ([]byte, *[]byte) {
	co := c.co
	if co == nil || co.pend == nil {
		return nil, nil
	}
	bp, off, n := co.pend, co.off, co.pendN
	co.pend, co.off, co.pendN = nil, 0, 0
	c.hasPend.Store(false)
	if co.armed {
		co.armed = false
		co.timer.Stop()
	}
	return (*bp)[off:n], bp
}

// flushPendLocked writes the held bytes, if any. The caller holds the
// frame lock.
func (c *Conn) flushPendLocked() {
	if c.co != nil && c.co.pend != nil {
		_ = c.writeLocked(c.frameDeadline(), nil, nil)
	}
}

// flushHeld sends the held bytes, if any, waiting for the frame lock and
// the write no later than deadline (or the write deadline, if sooner). It
// is for the reader's last act after the peer's close frame, when no
// further read will send them.
func (c *Conn) flushHeld(deadline time.Time) {
	if !c.hasPend.Load() || c.acquireFrame(deadline) != nil {
		return
	}
	if c.co != nil && c.co.pend != nil {
		dl := timeToNs(deadline)
		if fd := c.frameDeadline(); fd != 0 && fd < dl {
			dl = fd
		}
		_ = c.writeLocked(dl, nil, nil)
	}
	c.releaseFrame()
}

// flushHeldNow sends the held bytes, if any, waiting for the frame lock
// no longer than the write bounds allow (closeTimeout when there are none).
// NetConn calls it after turning holding off, so that closing the returned
// connection loses nothing: should the lock not come in time, its holder
// is writing and sends the held bytes ahead of its own.
func (c *Conn) flushHeldNow() {
	if !c.hasPend.Load() {
		return
	}
	deadline := time.Now().Add(closeTimeout.get())
	if dl := c.frameDeadline(); dl != 0 && dl < deadline.UnixNano() {
		deadline = nsToTime(dl)
	}
	if c.acquireFrame(deadline) != nil {
		return
	}
	c.flushPendLocked()
	c.releaseFrame()
}

// flushOnTimer is the timer's bound on holding.
func (c *Conn) flushOnTimer() {
	if err := c.acquireFrame(time.Time{}); err != nil {
		return
	}
	c.flushPendLocked()
	c.releaseFrame()
}

// beforeNetRead runs before the reader reads from the network: the
// buffered input is used up, so nothing is held any longer. The reader must
// not wait for a slow peer to take the held bytes (it would stop reading,
// and a peer that only reads once its own writes are done would wait on
// it), so they are sent without waiting (flushNoWaitLocked). When another
// goroutine holds the frame lock, that writer sends them, or the timer does.
func (c *Conn) beforeNetRead() {
	c.moreInput.Store(false)
	if c.hasPend.Load() && tryAcquire(c.frameMu) {
		c.flushNoWaitLocked()
		c.releaseFrame()
	}
}

// flushNoWaitLocked sends the held bytes without waiting: on a plain socket
// what the kernel takes at once is written directly; whatever is left, and
// everything on other connections (TLS, HTTP/2 streams), goes to the timer,
// fired now, whose goroutine may wait. The caller holds the frame lock.
func (c *Conn) flushNoWaitLocked() {
	co := c.co
	if co == nil || co.pend == nil {
		return
	}
	if c.br.raw != nil && c.writeErr == nil {
		n, err := co.nw.rawWriteNoWait(c.br.raw, (*co.pend)[co.off:co.pendN])
		co.off += n
		c.written += int64(n)
		var rawErr *rawWriteError
		switch {
		case err != nil && !errors.As(err, &rawErr):
			// The connection has failed.
			c.failWriteLocked(c.writeOpError(err))
			if _, bp := c.takePendLocked(); bp != nil {
				putPooledBuf(bp)
			}
			return
		case co.off == co.pendN:
			if _, bp := c.takePendLocked(); bp != nil {
				putPooledBuf(bp)
			}
			return
		}
	}
	co.armed = true
	co.timer.Reset(0)
}

// rawWriteError is an error of the RawConn itself (a passed deadline, a
// closed connection) from rawWriteNoWait: nothing was written, and the
// write is left to a path that applies the Conn's deadlines.
type rawWriteError struct{ err error }

func (e *rawWriteError) Error() string { return e.err.Error() }
func (e *rawWriteError) Unwrap() error { return e.err }

// writeOpError wraps a system call error as net.Conn.Write reports errors.
func (c *Conn) writeOpError(err error) error {
	la := c.conn.LocalAddr()
	return &net.OpError{Op: "write", Net: la.Network(), Source: la, Addr: c.conn.RemoteAddr(), Err: err}
}
