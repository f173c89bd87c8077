package websocket

import (
	"time"
)

// The write locks.
//
// A data message goes out whole: while one message's frames are written,
// other data messages wait; control frames do not (they may go out between
// the fragments of a message). msgMu is held for a whole data message and
// frameMu while one frame is written. Both are one-slot semaphores, so
// that waits can end.
//
// WriteMessage (and WritePreparedMessage, WriteMessageContext) hold msgMu
// within the call. A NextWriter writer takes it only when its message
// starts going out (its first full fragment, its first compressed byte, or
// Close) and gives it back on Close or when a write fails, so a writer that
// is dropped before then (say, after a failed json.Encoder.Encode) holds
// nothing.
//
// No wait for msgMu is unbounded. A waiter returns:
//   - ErrCloseSent once a close frame was sent (Close wakes every waiter);
//   - the write error once a write failed (the connection has failed);
//   - a timeout error when the write deadline passes (one set by
//     SetWriteDeadline while it waits counts) or, when WriteTimeout is
//     positive, WriteTimeout after the call began; nothing was written and
//     the connection is unchanged;
//   - errCanceled when its context ends.
//
// And a NextWriter writer that holds msgMu while its goroutine neither
// writes to it nor closes it (a writer left open, or a second NextWriter
// on the goroutine that holds the first) is ended after the write stall
// bound while another write waits: its message gets its final fragment, and
// its later calls return errWriterEnded.

// lockMsg takes the message lock; done (nil: never) ends the wait with
// errCanceled. Errors are as described above.
func (c *Conn) lockMsg(done <-chan struct{}) error {
	if tryAcquire(c.msgMu) {
		return nil
	}
	return c.lockMsgSlow(done)
}

func (c *Conn) lockMsgSlow(done <-chan struct{}) error {
	var bound int64 // WriteTimeout from now
	if c.writeTimeout > 0 {
		bound = time.Now().Add(c.writeTimeout).UnixNano()
	}
	c.waiters.Add(1)
	defer c.waiters.Add(-1)
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	var idle idleWatch
	for {
		wake := c.wakeChan()
		if err := c.writeEndedErr(); err != nil {
			return err
		}
		now := time.Now().UnixNano()
		dl := c.writeDeadlineNs.Load()
		if bound != 0 && (dl == 0 || bound < dl) {
			dl = bound
		}
		if dl != 0 && dl <= now {
			return errWriteTimeout
		}
		wait := int64(-1) // none
		if dl != 0 {
			wait = dl - now
		}
		if at := idle.check(c, now); at != 0 && (wait < 0 || at-now < wait) {
			wait = at - now
		}
		var timeout <-chan time.Time
		if wait >= 0 {
			if timer == nil {
				timer = time.NewTimer(time.Duration(wait))
			} else {
				timer.Reset(time.Duration(wait))
			}
			timeout = timer.C
		}
		select {
		case c.msgMu <- struct{}{}:
			if err := c.writeEndedErr(); err != nil {
				c.unlockMsg()
				return err
			}
			return nil
		case <-wake:
		case <-timeout:
		case <-done:
			return errCanceled
		}
	}
}

// idleWatch follows the NextWriter writer holding msgMu while lockMsgSlow
// waits, to end it once it stayed idle for the stall bound.
type idleWatch struct {
	w     *messageWriter
	calls uint64 // w.calls when watching began
	since int64  // when watching began, Unix ns
}

// check ends the writer holding msgMu if it made no call for the stall
// bound, and returns when it should be checked next (0: no need).
func (iw *idleWatch) check(c *Conn, now int64) int64 {
	stall := c.stallBound()
	w := c.curWriter.Load()
	if w == nil || stall == 0 {
		iw.w = nil
		return 0
	}
	calls := w.calls.Load()
	if w != iw.w || calls != iw.calls {
		iw.w, iw.calls, iw.since = w, calls, now
	}
	at := iw.since + int64(stall)
	if now < at {
		return at
	}
	if w.endIdle(calls) {
		iw.w = nil
		return 0
	}
	// It is inside a call: look again a bound later.
	iw.since = now
	return now + int64(stall)
}

// writeEndedErr returns why no more data can be written, or nil.
func (c *Conn) writeEndedErr() error {
	if f := c.writeFail.Load(); f != nil {
		return f.err
	}
	if c.sentClose.Load() {
		return ErrCloseSent
	}
	return nil
}

// unlockMsg releases the message lock.
func (c *Conn) unlockMsg() { <-c.msgMu }

// acquireFrame takes the frame lock, waiting no later than deadline (a
// zero deadline waits as long as it takes: the holder's write is bounded).
func (c *Conn) acquireFrame(deadline time.Time) error {
	return acquire(c.frameMu, deadline, nil)
}

// releaseFrame releases the frame lock, and fails the connection when a
// write under it failed.
func (c *Conn) releaseFrame() {
	fail := c.failPending
	c.failPending = false
	err := c.writeErr
	<-c.frameMu
	if fail {
		c.failAfterWrite(err)
	}
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
