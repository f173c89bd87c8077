package websocket

import (
	"errors"
	"net"
	"time"
)

// Closing.
//
// Every way this side ends a connection goes through closeConn, which
// sends a close frame, waits for the peer's when asked to, and closes the
// network connection (closeNetConn, once):
//
//   - Close: 1000, waiting for the peer's close frame;
//   - Upgrader.Shutdown: 1001, waiting until its deadline;
//   - keepalive: 1001, not waiting (the peer is not answering);
//   - the reader finding a protocol error (failLocked): 1002, 1007 or 1009;
//   - a Handler's serve function panicking: 1011.
//
// Held-back frames (write coalescing) go out ahead of the close frame, in
// the same write. A failed write ends the connection without a close frame
// (failAfterWrite): the stream may hold part of a frame. The peer's close
// frame is answered by the reader, which then closes the network
// connection itself (control.go).

// closeReq describes how closeConn ends the connection.
type closeReq struct {
	code   int    // status code of the close frame
	reason string // its reason
	// cause, when non-nil, is what reads return once the network
	// connection is closed, instead of the network error.
	cause error
	// deadline bounds the close frame's write and the wait for the peer.
	deadline time.Time
	// await waits for the peer's close frame before closing.
	await bool
}

// closeConn ends the connection as r says. It returns the write failure,
// if any, that happened before it closed the network connection (a write
// cut by that close is not one), and the error of the close frame's write
// (ErrCloseSent when one was sent before).
func (c *Conn) closeConn(r closeReq) (failed *causeBox, err error) {
	if r.cause != nil {
		c.readCause.CompareAndSwap(nil, &causeBox{r.cause})
	}
	err = c.WriteControl(CloseMessage, FormatCloseMessage(r.code, r.reason), r.deadline)
	if r.await && (err == nil || err == ErrCloseSent) && !c.awaitPeerClose(r.deadline) {
		// Called from a ping, pong or close handler: the reader will see
		// the peer's close frame once the handler returns; the timer
		// bounds the wait.
		c.closeNetConnAt(r.deadline)
		return c.writeFail.Load(), err
	}
	failed = c.writeFail.Load()
	_ = c.closeNetConn()
	return failed, err
}

// Close performs the closing handshake and closes the network connection.
// It sends a close frame with CloseNormalClosure (unless a close frame was
// already sent), waits up to 5 seconds for the peer's close frame, then
// closes the connection. When no goroutine is reading, Close reads (and
// discards) what arrives until the peer's close frame; when one is, that
// read ends with the peer's *CloseError and Close returns as soon as it
// does. Called from a ping, pong or close handler, Close does not wait:
// the read in progress finishes the handshake, and the connection is
// closed at the latest 5 seconds later.
//
// Close returns nil when the connection ended cleanly. When a write had
// failed (the network, a deadline, a context), it returns that error:
// messages reported as sent may not have reached the peer. When the close
// frame could not be sent within 5 seconds (the write side was blocked),
// it returns a timeout net.Error (and a write blocked meanwhile fails when
// Close closes the connection). Later calls return the same result and
// do nothing.
//
// Close is safe for concurrent use with every other method. Writes that
// wait for the message lock are woken and return ErrCloseSent.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		failed, err := c.closeConn(closeReq{code: CloseNormalClosure, deadline: time.Now().Add(closeTimeout.get()), await: true})
		if failed != nil {
			c.closeErr = failed.err
		} else if err != nil && err != ErrCloseSent {
			c.closeErr = err
		}
	})
	return c.closeErr
}

// failLocked fails the connection after the peer broke the protocol: it
// sends a close frame with code (best effort, bounded in time), closes the
// network connection and makes err the sticky read error. The caller is
// the reader, holding readMu.
func (c *Conn) failLocked(code int, err error) error {
	_, _ = c.closeConn(closeReq{code: code, deadline: time.Now().Add(time.Second)})
	return c.setReadErrLocked(err)
}

// failAfterWrite ends the connection after a write failed with err: no
// close frame can follow a frame that may have gone out in part, so the
// network connection is closed, and reads return err.
func (c *Conn) failAfterWrite(err error) {
	if c.peerCloseCode.Load() == 0 {
		// (Once the peer's close frame is here, reads report it, even
		// when the answer to it could not be written.)
		c.readCause.CompareAndSwap(nil, &causeBox{err})
	}
	_ = c.closeNetConn()
}

// awaitPeerClose waits until the peer's close frame (or a read error)
// arrives, or until deadline. When no goroutine is reading, it reads and
// discards frames itself; when the reader stops reading while it waits,
// it takes over. It reports false, without waiting, when the reader is in
// a ping, pong or close handler (possibly on this goroutine), which the
// wait would block.
func (c *Conn) awaitPeerClose(deadline time.Time) bool {
	c.waiters.Add(1)
	defer c.waiters.Add(-1)
	var t *time.Timer
	defer func() {
		if t != nil {
			t.Stop()
		}
	}()
	for {
		wake := c.wakeChan()
		if c.readMu.TryLock() {
			c.readUntilCloseLocked(deadline)
			c.readMu.Unlock()
			return true
		}
		if c.peerCloseCode.Load() != 0 {
			// In the close handler: the peer's frame is here.
			return true
		}
		if c.inHandler.Load() {
			return false
		}
		if t == nil {
			t = time.NewTimer(time.Until(deadline))
		}
		select {
		case <-c.readDone():
			return true
		case <-t.C:
			return true
		case <-wake:
		}
	}
}

// readUntilCloseLocked reads and discards frames until the read fails,
// which the peer's close frame makes it do. The caller holds readMu.
func (c *Conn) readUntilCloseLocked(deadline time.Time) {
	if c.readErr != nil {
		return
	}
	_ = c.conn.SetReadDeadline(deadline)
	for c.readErr == nil {
		if c.readInMessage {
			_ = c.discardMessageLocked()
		} else {
			_, _ = c.nextFrameLocked()
		}
	}
}

// closeNetConnAt closes the network connection at deadline, unless it is
// closed before.
func (c *Conn) closeNetConnAt(deadline time.Time) {
	c.wakeMu.Lock()
	defer c.wakeMu.Unlock()
	if c.closeTimer == nil {
		c.closeTimer = time.AfterFunc(time.Until(deadline), func() { _ = c.closeNetConn() })
	}
}

// isNetError reports whether err comes from the network connection being
// closed or timing out.
func isNetError(err error) bool {
	var ne net.Error
	return errors.Is(err, net.ErrClosed) || errors.As(err, &ne)
}

// closeTimeout bounds how long Close and Upgrader.Shutdown (without a
// deadline) wait for the peer while finishing the closing handshake. Tests
// raise it, to tell a wait that ends with the peer from one that ends with
// the bound.
var closeTimeout = newDurationVar(5 * time.Second)

// closeNetConn closes the network connection once, closes Done's channel,
// stops keepalive, wakes every waiting writer, returns pooled compression state and runs the close
// hooks. Later calls return net.ErrClosed.
func (c *Conn) closeNetConn() error {
	err := net.ErrClosed
	c.netCloseOnce.Do(func() {
		err = c.conn.Close()
		c.wakeMu.Lock()
		if c.closeTimer != nil {
			c.closeTimer.Stop()
		}
		c.closed.fireLocked()
		c.wakeMu.Unlock()
		if c.keepalive != nil {
			c.keepalive.stop()
		}
		c.broadcast()
		c.releaseCompression()
		if c.owner != nil {
			c.owner.untrack(c)
		}
	})
	return err
}
