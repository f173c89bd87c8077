package websocket

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/wsup/websocket/frame"
)

// handleControlLocked reads a control frame's payload and runs its handler.
// The payload is unmasked in place in the read buffer.
func (c *Conn) handleControlLocked(h frame.Header) error {
	payload, err := c.br.Peek(int(h.Length))
	if err != nil {
		return c.setReadErrLocked(eofError(err))
	}
	if h.Masked {
		frame.Mask(h.Key, 0, payload)
	}
	switch h.Opcode {
	case frame.OpPing:
		if c.handlePing == nil {
			err := c.answerPing(payload) // copied into the pong before the next read
			c.br.Discard(len(payload))
			return c.handlerErrLocked(err)
		}
		appData := string(payload)
		c.br.Discard(len(payload))
		return c.handlerErrLocked(c.runHandler(func() error { return c.handlePing(appData) }))
	case frame.OpPong:
		c.notifyPong(payload)
		if c.handlePong == nil {
			c.br.Discard(len(payload))
			return nil
		}
		appData := string(payload)
		c.br.Discard(len(payload))
		return c.handlerErrLocked(c.runHandler(func() error { return c.handlePong(appData) }))
	}
	c.br.Discard(len(payload)) // payload stays valid until the next read
	code, reason, err := frame.ParseClose(payload)
	switch {
	case errors.Is(err, frame.ErrInvalidCloseReason):
		return c.failLocked(CloseInvalidFramePayloadData, fmt.Errorf("%w in close reason", ErrInvalidUTF8))
	case err != nil:
		return c.failLocked(CloseProtocolError, fmt.Errorf("%w: %v", ErrProtocol, err))
	}
	ce := &CloseError{Code: int(code), Text: string(reason)}
	c.peerCloseCode.CompareAndSwap(0, int32(code))
	// The handler's error is not the read error: the peer closed, and the
	// caller matches that with IsCloseError whatever the echo did.
	if c.handleClose == nil {
		_ = c.defaultCloseHandler(ce.Code, ce.Text)
	} else {
		_ = c.runHandler(func() error { return c.handleClose(ce.Code, ce.Text) })
	}
	// Frames held back for coalescing go before the TCP close: no read
	// will send them now. (A close frame the handler sent took them along.)
	c.flushHeld(time.Now().Add(closeTimeout.get()))
	if cause := c.readCause.Load(); cause != nil {
		// This side closed first for a reason of its own (keepalive): the
		// peer's close is only the answer.
		c.setReadErrLocked(cause.err)
		_ = c.closeNetConn()
		return c.readErr
	}
	c.setReadErrLocked(ce)
	// The closing handshake is complete once both close frames are sent:
	// the TCP connection goes now (RFC 6455 section 7.1.1).
	_ = c.closeNetConn()
	return ce
}

// SetPingHandler sets the function called for each ping received. It runs
// on the reading goroutine, inside NextReader or a message reader's Read.
// A nil h sets the default, which answers with a pong carrying the same
// application data. An error from h becomes the read error.
func (c *Conn) SetPingHandler(h func(appData string) error) { c.handlePing = h }

// PingHandler returns the current ping handler.
func (c *Conn) PingHandler() func(appData string) error {
	if c.handlePing == nil {
		return c.defaultPingHandler
	}
	return c.handlePing
}

// defaultPingHandler answers a ping with a pong carrying the same data.
func (c *Conn) defaultPingHandler(appData string) error {
	return c.answerPing([]byte(appData))
}

// answerPing sends the pong for a ping carrying data. A pong skipped
// because the connection is closing, or because the frame lock did not come
// within a second (another frame is going out, under its own bound), is not
// an error. A pong whose write failed has failed the connection; its error
// becomes the read error.
func (c *Conn) answerPing(data []byte) error {
	err := c.WriteControl(PongMessage, data, time.Now().Add(time.Second))
	if err == ErrCloseSent || err == errWriteTimeout {
		return nil
	}
	return err
}

// runHandler runs an application's ping, pong or close handler, noting
// that the reader is inside it: a Close called meanwhile (possibly by the
// handler) must not wait for this reader.
func (c *Conn) runHandler(h func() error) error {
	c.inHandler.Store(true)
	defer c.inHandler.Store(false)
	return h()
}

// SetPongHandler sets the function called for each pong received, on the
// reading goroutine. A nil h sets the default, which does nothing. An error
// from h becomes the read error.
func (c *Conn) SetPongHandler(h func(appData string) error) { c.handlePong = h }

// PongHandler returns the current pong handler.
func (c *Conn) PongHandler() func(appData string) error {
	if c.handlePong == nil {
		return defaultPongHandler
	}
	return c.handlePong
}

// defaultPongHandler ignores pongs.
func defaultPongHandler(string) error { return nil }

// SetCloseHandler sets the function called when a close frame arrives, on
// the reading goroutine, before the read returns a *CloseError. A nil h sets
// the default, which answers with a close frame echoing the status code.
// After the handler returns the network connection is closed: the closing
// handshake is over. A handler that wants to answer must write its own
// close frame with WriteControl.
func (c *Conn) SetCloseHandler(h func(code int, text string) error) { c.handleClose = h }

// CloseHandler returns the current close handler.
func (c *Conn) CloseHandler() func(code int, text string) error {
	if c.handleClose == nil {
		return c.defaultCloseHandler
	}
	return c.handleClose
}

// defaultCloseHandler answers a close frame with one echoing its code.
func (c *Conn) defaultCloseHandler(code int, _ string) error {
	err := c.WriteControl(CloseMessage, FormatCloseMessage(code, ""), time.Now().Add(time.Second))
	if err == ErrCloseSent {
		return nil
	}
	return err
}

// Ping sends a ping and waits for the pong that answers it, or until ctx
// ends (returning ctx.Err()). Pongs are processed by reads, so another
// goroutine must be reading from the connection meanwhile. When reading
// stops before the pong arrives, Ping returns the read's error. It is safe
// for concurrent use; pongs are matched to pings by their payload.
func (c *Conn) Ping(ctx context.Context) error {
	var payload [8]byte
	id := c.pingSeq.Add(1)
	binary.BigEndian.PutUint64(payload[:], id)
	ch := make(chan struct{})
	c.pingMu.Lock()
	if c.pings == nil {
		c.pings = make(map[uint64]chan struct{})
	}
	c.pings[id] = ch
	c.pingMu.Unlock()
	defer func() {
		c.pingMu.Lock()
		delete(c.pings, id)
		c.pingMu.Unlock()
	}()
	if err := c.writeControlContext(ctx, PingMessage, payload[:]); err != nil {
		return err
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.readDone():
		// readErr was set before readDone was closed and no longer
		// changes.
		return c.readErr
	}
}

// notifyPong wakes the Ping waiting for this pong payload, if any.
func (c *Conn) notifyPong(payload []byte) {
	if len(payload) != 8 {
		return
	}
	id := binary.BigEndian.Uint64(payload)
	c.pingMu.Lock()
	if ch, ok := c.pings[id]; ok {
		close(ch)
		delete(c.pings, id)
	}
	c.pingMu.Unlock()
}
