package websocket

import "time"

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
//     soon as the buffered input is used up or before it would wait;
//   - any write that is not held (a larger frame, a control frame, Close)
//     sends them first, in the same system call when they fit;
//   - a timer sends them coalesceDelay after the first was held, in case
//     the application stops reading for a while.
//
// Order is kept (held bytes are always written before later ones) and so is
// the sticky write error: a failed flush makes every later write fail.

const (
	// coalesceDelay bounds how long a held frame waits.
	coalesceDelay = 100 * time.Microsecond
	// coalesceBufSize is the size of the buffer held frames collect in; a
	// frame that does not fit with what is held is not held.
	coalesceBufSize = 16 << 10
)

// coalescer is the held-back state of a Conn, allocated when it first
// holds a frame (an idle or never-pipelined connection has none). Guarded
// by the frame lock.
type coalescer struct {
	pend  *[]byte // pooled, coalesceBufSize bytes; nil when nothing is held
	pendN int     // bytes held in *pend
	armed bool    // timer is set
	timer *time.Timer
}

// holdLocked appends the frame b (complete, masked when needed) to the held
// bytes when coalescing applies, and reports whether it did. The caller
// holds the frame lock.
func (c *Conn) holdLocked(b []byte) bool {
	if !c.coalesce || !c.moreInput.Load() || c.writeErr != nil {
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
			co.timer = time.AfterFunc(coalesceDelay, c.flushOnTimer)
		} else {
			co.timer.Reset(coalesceDelay)
		}
	}
	return true
}

// takePendLocked returns the held bytes, to be written before anything
// else, and the buffer to give back with dropPendLocked once they are.
func (c *Conn) takePendLocked() ([]byte, *[]byte) {
	co := c.co
	if co == nil || co.pend == nil {
		return nil, nil
	}
	bp, n := co.pend, co.pendN
	co.pend, co.pendN = nil, 0
	c.hasPend.Store(false)
	if co.armed {
		co.armed = false
		co.timer.Stop()
	}
	return (*bp)[:n], bp
}

// flushPendLocked writes the held bytes, if any. The caller holds the
// frame lock.
func (c *Conn) flushPendLocked() {
	if c.co != nil && c.co.pend != nil {
		_ = c.writeLocked(c.frameDeadline(), nil, nil)
	}
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
// buffered input is used up, so nothing is held any longer. When another
// goroutine holds the frame lock, that writer sends the held bytes, or the
// timer does.
func (c *Conn) beforeNetRead() {
	c.moreInput.Store(false)
	if c.hasPend.Load() && c.tryAcquireFrame() {
		c.flushPendLocked()
		c.releaseFrame()
	}
}
