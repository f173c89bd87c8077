package websocket

import (
	"context"
	"errors"
	"time"
)

// errCanceled is returned internally when a context ended while waiting for
// a lock; callers report ctx.Err() instead.
var errCanceled = errors.New("websocket: canceled")

// aLongTimeAgo is a deadline in the past, used to wake a blocked read or
// write at once.
var aLongTimeAgo = time.Unix(1, 0)

// ReadMessageContext is ReadMessage bounded by ctx: it returns ctx.Err()
// when ctx is canceled or its deadline passes before a whole message was
// read. As after a read deadline, the connection can then no longer be read
// (part of a frame may have been consumed): close it. A ctx that ends only
// after the message was read does not affect the connection. It must not
// be called concurrently with another read.
func (c *Conn) ReadMessageContext(ctx context.Context) (messageType int, p []byte, err error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	if ctx.Done() == nil {
		return c.ReadMessage()
	}
	cause := &causeBox{&ctxError{ctx}}
	watcherDone := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(watcherDone)
		c.readCause.CompareAndSwap(nil, cause)
		_ = c.conn.SetReadDeadline(aLongTimeAgo)
	})
	messageType, p, err = c.ReadMessage()
	if testHookReadContextRead != nil {
		testHookReadContextRead()
	}
	if stop() {
		return messageType, p, err
	}
	// ctx ended and its watcher has started: let it finish before looking
	// at, or undoing, what it did.
	<-watcherDone
	if err != nil {
		return 0, nil, ctx.Err()
	}
	// The message was read before the watcher could break the read: ctx
	// ended too late to matter, and the next read must not inherit its
	// end. Put the application's read deadline back and drop the cause.
	// Holding readMu keeps this from overriding the deadline of a Close
	// that is waiting for the peer's close frame (awaitPeerClose).
	c.readMu.Lock()
	c.restoreReadDeadline()
	c.readCause.CompareAndSwap(cause, nil)
	c.unlockRead()
	return messageType, p, err
}

// testHookReadContextRead, when non-nil, runs in ReadMessageContext between
// the read's return and the stop of the context's watcher. Tests use it to
// end the context at exactly that point. It is nil in production.
var testHookReadContextRead func()

// restoreReadDeadline sets the read deadline last given to SetReadDeadline
// on the network connection again. A SetReadDeadline running meanwhile may
// have been overwritten with the older value: it is then applied again.
func (c *Conn) restoreReadDeadline() {
	for range 3 {
		ns := c.readDeadlineNs.Load()
		_ = c.conn.SetReadDeadline(nsToTime(ns))
		if c.readDeadlineNs.Load() == ns {
			return
		}
	}
}

// ctxError carries the context whose end broke a read.
type ctxError struct{ ctx context.Context }

func (e *ctxError) Error() string { return e.ctx.Err().Error() }
func (e *ctxError) Unwrap() error { return e.ctx.Err() }

// WriteMessageContext is WriteMessage bounded by ctx. It waits for other
// writers only until ctx ends, returning ctx.Err() without writing
// anything. If ctx ends while the frame is being written, the write fails
// and, as after a write deadline, the connection fails: a partial frame
// cannot be recalled, so the connection is closed and later writes, reads
// and Close return the error. It is safe for concurrent use.
func (c *Conn) WriteMessageContext(ctx context.Context, messageType int, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if messageType != TextMessage && messageType != BinaryMessage {
		if messageType == CloseMessage || messageType == PingMessage || messageType == PongMessage {
			return c.writeControlContext(ctx, messageType, data)
		}
		return ErrBadMessageType
	}
	if err := c.lockMsg(ctx.Done()); err != nil {
		if err == errCanceled {
			return ctx.Err()
		}
		return err
	}
	defer c.unlockMsg()
	defer c.bindWriteContext(ctx)()
	return c.writeDataLocked(messageType, data)
}

// writeControlContext is WriteControl bounded by ctx.
func (c *Conn) writeControlContext(ctx context.Context, messageType int, data []byte) error {
	deadline, _ := ctx.Deadline()
	if err := acquire(c.frameMu, deadline, ctx.Done()); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	defer c.releaseFrame()
	defer c.bindWriteContext(ctx)()
	if len(data) > 125 {
		return ErrControlTooLong
	}
	return c.writeControlLocked(messageType, data, deadline)
}

// bindWriteContext makes the end of ctx abort the write in progress, and
// returns the function that undoes that once the write is over.
func (c *Conn) bindWriteContext(ctx context.Context) (unbind func()) {
	if ctx.Done() == nil {
		return func() {}
	}
	token := new(byte)
	c.cancelMu.Lock()
	c.cancelToken = token
	c.cancelMu.Unlock()
	stop := context.AfterFunc(ctx, func() {
		c.cancelMu.Lock()
		defer c.cancelMu.Unlock()
		if c.cancelToken == token {
			// The write in progress, if it is still in progress, fails;
			// if it just ended, the next write must not inherit this.
			c.deadlineReset.Store(true)
			c.writeAborts.Add(1)
			_ = c.conn.SetWriteDeadline(aLongTimeAgo)
		}
	})
	return func() {
		stop()
		c.cancelMu.Lock()
		if c.cancelToken == token {
			c.cancelToken = nil
		}
		c.cancelMu.Unlock()
	}
}
