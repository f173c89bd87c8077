package websocket

import (
	"sync"
	"time"
)

// keepalive pings a quiet peer and closes connections that stop answering
// or stay idle. It runs on a timer: no goroutine waits between ticks.
type keepalive struct {
	c        *Conn
	interval time.Duration // ping after this long without a frame from the peer; 0: no pings
	timeout  time.Duration // give up this long after an unanswered ping
	idle     time.Duration // close after this long without data messages; 0: never

	mu          sync.Mutex // guards the fields below
	timer       *time.Timer
	stopped     bool
	frames      uint64    // c.framesRead at the last tick
	messages    uint64    // c.dataFrames at the last tick
	lastFrame   time.Time // when frames last changed
	lastMessage time.Time // when messages last changed
	pingSentAt  time.Time // zero when no keepalive ping is outstanding
	pending     int       // unread input at the last tick (c.inputPending), -1: unknown
}

// startKeepalive arms keepalive on c. interval 0 disables pings; timeout 0
// means interval; idle 0 disables the idle timeout.
func (c *Conn) startKeepalive(interval, timeout, idle time.Duration) {
	if interval <= 0 && idle <= 0 {
		return
	}
	if timeout <= 0 {
		timeout = interval
	}
	now := time.Now()
	k := &keepalive{c: c, interval: interval, timeout: timeout, idle: idle, lastFrame: now, lastMessage: now, pending: -1}
	k.mu.Lock()
	defer k.mu.Unlock()
	c.keepalive = k
	k.timer = time.AfterFunc(k.nextTickLocked(now), k.tick)
}

// stop disarms the timer; called once the connection is closed.
func (k *keepalive) stop() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.stopped = true
	k.timer.Stop()
}

// nextTickLocked returns how long until something may be due.
func (k *keepalive) nextTickLocked(now time.Time) time.Duration {
	next := time.Duration(1<<63 - 1)
	if k.interval > 0 {
		if k.pingSentAt.IsZero() {
			next = min(next, k.lastFrame.Add(k.interval).Sub(now))
		} else {
			// Look for the pong every interval, so that an answered ping
			// does not wait for the whole timeout to count.
			next = min(next, k.pingSentAt.Add(k.timeout).Sub(now), k.interval)
		}
	}
	if k.idle > 0 {
		next = min(next, k.lastMessage.Add(k.idle).Sub(now))
	}
	return max(next, time.Millisecond)
}

// tick runs on the timer's goroutine.
func (k *keepalive) tick() {
	c := k.c
	k.mu.Lock()
	if k.stopped {
		k.mu.Unlock()
		return
	}
	now := time.Now()
	pending := c.inputPending()
	if f := c.framesRead.Load(); f != k.frames {
		k.frames, k.lastFrame, k.pingSentAt = f, now, time.Time{}
	} else if pending != k.pending && pending >= 0 && k.pending >= 0 {
		// Bytes arrived that the application has not read yet (it is busy
		// with a message): the peer is alive, and its pong may be among
		// them.
		k.lastFrame, k.pingSentAt = now, time.Time{}
	}
	k.pending = pending
	if m := c.dataFrames.Load(); m != k.messages {
		k.messages, k.lastMessage = m, now
	}
	var expire error
	sendPing := false
	switch {
	case k.idle > 0 && now.Sub(k.lastMessage) >= k.idle:
		expire = ErrIdleTimeout
	case k.interval > 0 && !k.pingSentAt.IsZero() && now.Sub(k.pingSentAt) >= k.timeout:
		expire = ErrKeepaliveTimeout
	case k.interval > 0 && k.pingSentAt.IsZero() && now.Sub(k.lastFrame) >= k.interval:
		k.pingSentAt = now
		sendPing = true
	}
	if expire == nil {
		k.timer.Reset(k.nextTickLocked(now))
	}
	k.mu.Unlock()

	switch {
	case expire != nil:
		_, _ = c.closeConn(closeReq{code: CloseGoingAway, reason: expire.Error(), cause: expire, deadline: time.Now().Add(time.Second)})
	case sendPing:
		// A ping that cannot go out in time leaves pingSentAt set: the
		// timeout closes the connection.
		_ = c.WriteControl(PingMessage, nil, now.Add(k.timeout))
	}
}

// inputPending returns how many received bytes wait unread: in the kernel,
// plus the read buffer's when no read is in progress. It returns -1 when
// that cannot be told (other transports than TCP, Unix sockets and TLS over
// them, or systems other than Linux). A read in progress sees every frame
// itself, so the read buffer's bytes matter only when there is none.
func (c *Conn) inputPending() int {
	n, ok := kernelPending(c.conn)
	if !ok {
		return -1
	}
	if c.readMu.TryLock() {
		n += c.br.Buffered()
		c.unlockRead()
	}
	return n
}
