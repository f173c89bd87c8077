package hub

import (
	"sync"
	"time"

	"github.com/wsup/websocket"
)

// Per-connection send queues.
//
// Each connection known to the hub has a client: a bounded queue of
// prepared messages and a writer goroutine that alone takes from it, so a
// publication is queued to every subscriber without waiting for any of
// them to read. A full queue applies Options.Policy.

// entry is one queued message.
type entry struct {
	pm   *websocket.PreparedMessage
	size int
}

// client is one connection's queue and writer state.
type client struct {
	h    *Hub
	conn *websocket.Conn

	// Guarded by Hub.mu:
	topics map[string]struct{} // topics subscribed
	gone   bool                // removed from the hub

	// Guarded by qmu:
	qmu       sync.Mutex
	queue     []entry // pending messages, oldest first, from head on
	head      int
	bytes     int  // sizes of queue[head:]
	closing   bool // the writer is to send closeCode and close the connection
	finishing bool // the writer is to close once the queue is empty
	stopped   bool // the writer is to end without closing
	closeCode int
	closeText string

	wake      chan struct{} // capacity 1: the queue or the state changed
	flushed   chan struct{} // closed once the writer wrote its last frame
	flushOnce sync.Once
}

func newClient(h *Hub, conn *websocket.Conn) *client {
	c := &client{h: h, conn: conn, topics: make(map[string]struct{}), wake: make(chan struct{}, 1), flushed: make(chan struct{})}
	go c.writeLoop()
	return c
}

func (c *client) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// enqueue queues pm (size bytes) unless the client is closing. When the
// queue is full it applies the slow-consumer policy; it never blocks.
func (c *client) enqueue(pm *websocket.PreparedMessage, size int) {
	o := &c.h.opts
	c.qmu.Lock()
	if c.closing || c.stopped || c.finishing {
		c.qmu.Unlock()
		return
	}
	n := len(c.queue) - c.head
	full := n > 0 && (n >= o.QueueMessages || c.bytes+size > o.QueueBytes)
	dropped, closed := 0, false
	if full && o.Policy == DropOldest {
		for n > 0 && (n >= o.QueueMessages || c.bytes+size > o.QueueBytes) {
			c.bytes -= c.queue[c.head].size
			c.queue[c.head] = entry{}
			c.head++
			n--
			dropped++
		}
		full = false
	}
	if full {
		c.closing, c.closeCode, c.closeText = true, o.SlowCloseCode, "too slow: messages were dropped"
		closed = true
	} else {
		if c.head > 0 && c.head >= len(c.queue)/2 {
			c.queue = c.queue[:copy(c.queue, c.queue[c.head:])]
			c.head = 0
		}
		c.queue = append(c.queue, entry{pm, size})
		c.bytes += size
	}
	c.qmu.Unlock()
	c.signal()
	if dropped > 0 {
		c.h.stats.dropped.Add(uint64(dropped))
	}
	if closed {
		c.h.stats.slow.Add(1)
		// Out of its topics now (the caller holds a topic's lock), not
		// when the writer, maybe blocked in a write, gets to it.
		go c.h.remove(c)
	} else {
		c.h.stats.delivered.Add(1)
	}
	if (dropped > 0 || closed) && o.Hooks.OnSlowConsumer != nil {
		o.Hooks.OnSlowConsumer(c.conn, dropped, closed)
	}
}

// stop ends the writer without closing the connection; queued messages
// are discarded.
func (c *client) stop() {
	c.qmu.Lock()
	c.stopped = true
	c.qmu.Unlock()
	c.signal()
}

// closeAfterQueue makes the writer write what is queued, then send a
// close frame with code and close the connection.
func (c *client) closeAfterQueue(code int, text string) {
	c.qmu.Lock()
	if !c.closing && !c.finishing {
		c.finishing, c.closeCode, c.closeText = true, code, text
	}
	c.qmu.Unlock()
	c.signal()
}

// take returns the queued messages and empties the queue, or reports
// whether the writer is to close or stop.
func (c *client) take(buf []entry) (_ []entry, closing, stopped bool) {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	if c.finishing && c.head == len(c.queue) {
		c.closing = true
	}
	if c.closing || c.stopped {
		return buf, c.closing, c.stopped
	}
	buf = append(buf[:0], c.queue[c.head:]...)
	clear(c.queue)
	c.queue, c.head, c.bytes = c.queue[:0], 0, 0
	return buf, false, false
}

// writeLoop writes queued messages in order until the client is stopped,
// closed, a write fails or the connection is closed (Conn.Done, for an
// application that did not call Leave); then it removes the client from
// the hub.
func (c *client) writeLoop() {
	defer c.flushDone()
	var batch []entry
	for {
		select {
		case <-c.wake:
		case <-c.conn.Done():
			// Closed without Leave: nothing more can be written.
			c.h.remove(c)
			return
		}
		var closing, stopped bool
		batch, closing, stopped = c.take(batch)
		switch {
		case stopped:
			return
		case closing:
			c.qmu.Lock()
			code, text := c.closeCode, c.closeText
			c.qmu.Unlock()
			_ = c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(c.h.opts.WriteTimeout))
			c.flushDone()
			c.h.remove(c)
			_ = c.conn.Close()
			return
		}
		for i := range batch {
			_ = c.conn.SetWriteDeadline(time.Now().Add(c.h.opts.WriteTimeout))
			if err := c.conn.WritePreparedMessage(batch[i].pm); err != nil {
				c.h.remove(c)
				_ = c.conn.Close()
				return
			}
			c.h.stats.written.Add(1)
			batch[i] = entry{}
			if i%16 == 15 && c.interrupted() {
				break
			}
		}
		// What came meanwhile (a message, a close) has signaled wake; a
		// closing hub has not: look again.
		if c.isFinishing() {
			c.signal()
		}
	}
}

// flushDone records that the writer writes no more messages.
func (c *client) flushDone() { c.flushOnce.Do(func() { close(c.flushed) }) }

// isFinishing reports whether the writer is to close once the queue is
// empty.
func (c *client) isFinishing() bool {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	return c.finishing
}

// interrupted reports whether the writer should stop writing the batch.
func (c *client) interrupted() bool {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	return c.closing || c.stopped
}
