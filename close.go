package websocket

import (
	"errors"
	"net"
	"time"
)

// Close performs the closing handshake and closes the network connection.
// It sends a close frame with CloseNormalClosure (unless a close frame was
// already sent), waits up to 5 seconds for the peer's close frame, then
// closes the connection. Data messages that arrive meanwhile are
// discarded. When the peer has already closed, it only closes the network
// connection. Later calls return nil and do nothing.
//
// Close is safe for concurrent use with every other method. A goroutine
// blocked in a read is woken: its read returns the peer's *CloseError or a
// network error.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() { c.closeErr = c.closeHandshake() })
	return c.closeErr
}

func (c *Conn) closeHandshake() error {
	deadline := time.Now().Add(closeTimeout)
	err := c.WriteControl(CloseMessage, FormatCloseMessage(CloseNormalClosure, ""), deadline)
	if err == nil || err == ErrCloseSent {
		c.awaitPeerClose(deadline)
	}
	err = c.closeNetConn()
	c.releaseCompression()
	if errors.Is(err, net.ErrClosed) {
		// The read side closed it when the peer's close frame arrived.
		err = nil
	}
	return err
}

// awaitPeerClose waits until the peer's close frame (or a read error)
// arrives, or until deadline. When no goroutine is reading, it reads and
// discards frames itself.
func (c *Conn) awaitPeerClose(deadline time.Time) {
	if c.readMu.TryLock() {
		defer c.readMu.Unlock()
		_ = c.conn.SetReadDeadline(deadline)
		for c.readErr == nil {
			if c.readInMessage {
				_ = c.discardMessageLocked()
			} else {
				_, _ = c.nextFrameLocked()
			}
		}
		return
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-c.closeReceived:
	case <-t.C:
	}
}
