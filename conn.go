package websocket

import (
	"bufio"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsup/websocket/frame"
	"github.com/wsup/websocket/internal/deflate"
	"github.com/wsup/websocket/internal/utf8x"
)

// Message types, as in RFC 6455 section 11.8. The values are the frame
// opcodes, so they match gorilla/websocket's constants.
const (
	// TextMessage denotes a text data message. The payload is UTF-8 text;
	// received text is validated and a message with invalid UTF-8 closes the
	// connection with status 1007.
	TextMessage = 1
	// BinaryMessage denotes a binary data message.
	BinaryMessage = 2
	// CloseMessage denotes a close control message. The optional payload is
	// a status code and a reason; build it with FormatCloseMessage.
	CloseMessage = 8
	// PingMessage denotes a ping control message (payload at most 125 bytes).
	PingMessage = 9
	// PongMessage denotes a pong control message (payload at most 125 bytes).
	PongMessage = 10
)

const (
	// DefaultReadLimit is the largest message, in bytes, that a new Conn
	// accepts. SetReadLimit changes it.
	DefaultReadLimit = 32 << 20

	defaultReadBufferSize  = 4096
	defaultWriteBufferSize = 4096
	// maxBufferSize is the largest read or write buffer: larger
	// ReadBufferSize and WriteBufferSize settings are taken as this.
	maxBufferSize = 1 << 20
)

// durationVar is a duration that tests may change while connections of
// other tests still run.
type durationVar struct{ ns atomic.Int64 }

func newDurationVar(d time.Duration) *durationVar {
	v := new(durationVar)
	v.ns.Store(int64(d))
	return v
}

// get returns the duration.
func (v *durationVar) get() time.Duration { return time.Duration(v.ns.Load()) }

// connConfig carries what the handshake negotiated into a new Conn.
type connConfig struct {
	isServer        bool
	subprotocol     string
	readBufferSize  int
	writeBufferSize int
	writeBufferPool BufferPool
	// br holds bytes that were read from the connection before the Conn
	// existed (net/http's buffered reader after a hijack). It may be nil.
	// The Conn's first read takes its buffered bytes and drops its buffer
	// (zeroing the bufio.Reader); later bytes are read from the connection.
	br *bufio.Reader
	// compress is non-nil when permessage-deflate was negotiated.
	compress *compressParams
	// noCoalesce turns write coalescing off (coalesce.go).
	noCoalesce bool
}

// BufferPool is a pool of write buffers. Get returns nil or a value that
// Put stored before. Implementations must be safe for concurrent use.
type BufferPool interface {
	Get() any
	Put(any)
}

// Conn is a WebSocket connection, returned by Upgrader.Upgrade.
//
// Concurrency: all write methods (WriteMessage, WriteMessageContext,
// WritePreparedMessage, WriteControl, NextWriter, WriteJSON, Ping, and
// Close) may be called from any number of goroutines at once; each data message is written whole, never interleaved with another,
// and control frames may go out between the fragments of a long message.
// Reads (NextReader, ReadMessage, ReadJSON and the io.Reader NextReader
// returns) must come from one goroutine at a time. The Set… methods may be
// called at any time.
type Conn struct {
	conn        net.Conn
	subprotocol string

	// Read side. readMu is held by the goroutine that reads frames; the
	// fields below it are owned by that goroutine.
	readMu         sync.Mutex
	br             readBuffer
	readLimit      int64
	readErr        error // sticky: once set, every read returns it
	readRemaining  int64 // payload bytes left in the current frame
	readFinal      bool  // the current frame is the last of its message
	readKey        [4]byte
	readKeyPos     int
	readMasked     bool
	readInMessage  bool  // a data message has started and not ended
	readText       bool  // the message in progress is text
	readCompressed bool  // the message in progress has RSV1 (deflate)
	readLength     int64 // payload bytes of the message in progress so far
	readSeq        uint64
	readUTF8       utf8x.Validator
	sentClose      atomic.Bool           // closeSent, readable without frameMu
	readDecomp     *deflate.Decompressor // nil until the first compressed message
	readSrc        frameSource
	discardBuf     *[512]byte                        // scratch for skipping compressed messages; nil until needed
	handlePing     func(appData string) error        // nil: defaultPingHandler
	handlePong     func(appData string) error        // nil: ignore pongs
	handleClose    func(code int, text string) error // nil: defaultCloseHandler

	// Write side. msgMu is held while a data message is written (see
	// msglock.go); frameMu is held while one frame is written to conn.
	// Both are one-slot semaphores so that waits can end with a deadline,
	// a context or the end of the write side.
	msgMu            chan struct{}
	frameMu          chan struct{}
	writeErr         error                    // guarded by frameMu; sticky
	closeSent        bool                     // guarded by frameMu
	failPending      bool                     // guarded by frameMu: a write failed; releaseFrame fails the connection
	appliedStall     bool                     // guarded by frameMu: appliedWriteNs is a stall bound, not a deadline
	compReleased     bool                     // guarded by msgMu: no compressor after close
	written          int64                    // guarded by frameMu: bytes handed to conn
	leftAtApply      int64                    // guarded by frameMu: written less unacknowledged when the stall bound was set; -1: unknown
	appliedStallMono int64                    // guarded by frameMu: the stall deadline on the monotonic clock (monoNow)
	clockBase        time.Time                // guarded by frameMu: origin of monoNow
	writeFail        atomic.Pointer[causeBox] // writeErr, readable without frameMu
	writeDeadlineNs  atomic.Int64
	// readDeadlineNs is the last SetReadDeadline, for ReadMessageContext.
	readDeadlineNs atomic.Int64
	appliedWriteNs int64 // guarded by frameMu: deadline last set on conn
	writeBufSize   int
	hdrBuf         [frame.MaxHeaderSize]byte // guarded by frameMu
	// isServer is placed after hdrBuf, where it fills padding.
	isServer        bool
	writePool       BufferPool
	compressEnabled atomic.Bool
	compressLevel   atomic.Int32
	writeComp       *deflate.Compressor           // guarded by msgMu; nil until used
	compLevel       int                           // guarded by msgMu: writeComp's level
	curWriter       atomic.Pointer[messageWriter] // the NextWriter writer holding msgMu, if any

	// wake, when non-nil, is closed (and cleared) by broadcast to wake
	// goroutines waiting for the message lock or for Close: a write
	// deadline changed, the write side ended, the read lock came free.
	wakeMu sync.Mutex
	wake   chan struct{} // guarded by wakeMu
	// readEnd fires once the reader has ended (a close frame or an error;
	// readDone), closed fires once the network connection is closed (Done).
	readEnd      signal        // guarded by wakeMu
	closed       signal        // guarded by wakeMu
	waiters      atomic.Int32  // goroutines that may wait on wake
	inHandler    atomic.Bool   // the reader is running a ping, pong or close handler
	closeTimer   *time.Timer   // guarded by wakeMu: closes conn at a deferred Close's deadline
	noCoalesce   atomic.Bool   // NetConn was called: nothing may be held back any more
	noStallBound atomic.Bool   // conn takes no write deadlines: no stall bound
	writeAborts  atomic.Uint64 // contexts that ended during a write (bindWriteContext)

	// compress is non-nil when permessage-deflate was negotiated.
	compress *compressParams

	// Write coalescing (coalesce.go). moreInput is set by the reader;
	// co is guarded by frameMu.
	coalesce  bool
	moreInput atomic.Bool // the reader holds the peer's next frame already
	hasPend   atomic.Bool // co holds bytes
	// deadlineReset is set when a context's end moved conn's write
	// deadline into the past: the next write applies its own again.
	// (Here, beside the other 4-byte fields, it costs no padding.)
	deadlineReset atomic.Bool
	co            *coalescer

	closeOnce     sync.Once
	peerCloseCode atomic.Int32 // code of the close frame received, for hooks
	closeErr      error

	// readCause, when set, explains why a read was broken from outside
	// (a context ended, keepalive gave up): the network error the read
	// sees is replaced by it.
	readCause atomic.Pointer[causeBox]

	pingSeq atomic.Uint64
	pingMu  sync.Mutex
	pings   map[uint64]chan struct{} // guarded by pingMu: Ping waiters by payload

	keepalive  *keepalive    // nil unless keepalive is on; set before use
	framesRead atomic.Uint64 // frames received, for keepalive
	dataFrames atomic.Uint64 // data frames sent or received, for the idle timeout

	netCloseOnce  sync.Once
	sentCloseCode atomic.Int32 // code of the close frame sent, for hooks
	owner         *Upgrader    // set before the Conn is handed out; nil for a client
	openedAt      *time.Time   // set with owner when the OnClose hook needs it

	writeTimeout time.Duration // per-frame write bound; 0: the stall bound only; < 0: none

	cancelMu    sync.Mutex
	cancelToken *byte // guarded by cancelMu: the context-bound write in progress
}

// causeBox holds an error in an atomic.Pointer.
type causeBox struct{ err error }

// newConn returns a Conn over nc configured by cfg.
func newConn(nc net.Conn, cfg connConfig) *Conn {
	c := &Conn{
		conn:         nc,
		isServer:     cfg.isServer,
		subprotocol:  cfg.subprotocol,
		readLimit:    DefaultReadLimit,
		frameMu:      make(chan struct{}, 1),
		msgMu:        make(chan struct{}, 1),
		writeBufSize: clampBufferSize(cfg.writeBufferSize, defaultWriteBufferSize),
		writePool:    cfg.writeBufferPool,
		compress:     cfg.compress,
	}
	c.compressLevel.Store(defaultCompressionLevel)
	c.readSrc.c = c
	if c.compress != nil {
		c.compressEnabled.Store(true)
		c.compressLevel.Store(int32(c.compress.level))
	}
	c.br.init(nc, cfg.br, cfg.readBufferSize)
	if !cfg.noCoalesce {
		c.coalesce = true
		c.br.owner = c
	}
	return c
}

// clampBufferSize returns the buffer size to use for a configured size:
// def when size <= 0, and at most maxBufferSize.
func clampBufferSize(size, def int) int {
	if size <= 0 {
		return def
	}
	return min(size, maxBufferSize)
}

// Subprotocol returns the subprotocol negotiated in the handshake, or ""
// when none was. It is safe for concurrent use.
func (c *Conn) Subprotocol() string { return c.subprotocol }

// LocalAddr returns the local network address. It is safe for concurrent use.
func (c *Conn) LocalAddr() net.Addr { return c.conn.LocalAddr() }

// RemoteAddr returns the remote network address. It is safe for concurrent
// use.
func (c *Conn) RemoteAddr() net.Addr { return c.conn.RemoteAddr() }

// NetConn returns the underlying network connection. Reading from or
// writing to it directly corrupts the WebSocket stream; it is meant for
// inspection (addresses, TLS state), socket options, and closing the
// connection without a closing handshake.
//
// Closing the returned connection must not lose a message that a write
// reported as sent: NetConn therefore first sends the frames that write
// coalescing holds back, waiting for that no longer than the write bounds
// allow, and turns coalescing off for this connection. It is safe for
// concurrent use.
func (c *Conn) NetConn() net.Conn {
	if !c.noCoalesce.Swap(true) && c.coalesce {
		c.flushHeldNow()
	}
	return c.conn
}

// SetReadDeadline sets the deadline for future and pending reads. A read
// that times out leaves the connection broken: every later read returns the
// same error. A zero t means no deadline. It is safe for concurrent use.
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.readDeadlineNs.Store(timeToNs(t))
	return c.conn.SetReadDeadline(t)
}

// SetWriteDeadline sets the deadline for future writes, and for writes
// waiting for the message lock. A write that times out on the network
// fails the connection (see WriteMessage); a write that timed out while
// waiting for another message to finish wrote nothing and leaves the
// connection as it was. A zero t means no deadline (the write stall bound
// still applies, see Upgrader.WriteTimeout). It is safe for concurrent use.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.writeDeadlineNs.Store(timeToNs(t))
	if !t.IsZero() && c.hasPend.Load() && tryAcquire(c.frameMu) {
		// Frames held back (coalescing) must not wait past a deadline
		// they did not have: they go now. (When the frame lock is taken,
		// its holder sends them first.)
		c.flushNoWaitLocked()
		c.releaseFrame()
	}
	c.broadcast()
	return nil
}

// SetReadLimit sets the largest message, in bytes, that the peer may send.
// A message over the limit makes the read fail with ErrReadLimit and closes
// the connection with status 1009 (message too big). A limit <= 0 removes
// the limit. The default is DefaultReadLimit. Call it from the reading
// goroutine or before reading starts.
func (c *Conn) SetReadLimit(limit int64) {
	c.readLimit = limit
}

func timeToNs(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func nsToTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// broadcast wakes every goroutine waiting on c.wake.
func (c *Conn) broadcast() {
	if c.waiters.Load() == 0 {
		return
	}
	c.wakeMu.Lock()
	if c.wake != nil {
		close(c.wake)
		c.wake = nil
	}
	c.wakeMu.Unlock()
}

// wakeChan returns the channel the next broadcast closes. The caller has
// added itself to c.waiters first, so that broadcast does not skip it.
func (c *Conn) wakeChan() <-chan struct{} {
	c.wakeMu.Lock()
	defer c.wakeMu.Unlock()
	if c.wake == nil {
		c.wake = make(chan struct{})
	}
	return c.wake
}

// unlockRead releases the read lock, and tells a waiting Close that it
// may now read the peer's close frame itself.
func (c *Conn) unlockRead() {
	c.readMu.Unlock()
	c.broadcast()
}

// readDone returns a channel closed once the reader has ended: a close
// frame or an error set the sticky read error (setReadErrLocked).
func (c *Conn) readDone() <-chan struct{} {
	c.wakeMu.Lock()
	defer c.wakeMu.Unlock()
	return c.readEnd.waitLocked()
}

// Done returns a channel that is closed once this package has closed the
// network connection: by Close, at the end of the closing handshake, when
// a protocol violation or a failed write failed the connection, by
// keepalive, by Upgrader.Shutdown, or when an Upgrader.Handler function
// returned. A read that fails because the peer's connection ended does not
// close it: the application still calls Close, as after any failed read.
// Done lets a goroutine that does not read, such as a writer fed from a
// queue, learn that the connection is gone. It is safe for concurrent use.
func (c *Conn) Done() <-chan struct{} {
	c.wakeMu.Lock()
	defer c.wakeMu.Unlock()
	return c.closed.waitLocked()
}

// signal is an event that happens once, for goroutines to wait on: its
// channel is made only when somebody waits, as most connections never
// need it. The lock that guards it (wakeMu) is held for both methods.
type signal struct {
	ch    chan struct{}
	fired bool
}

// waitLocked returns a channel that is closed once fireLocked was called.
func (s *signal) waitLocked() <-chan struct{} {
	if s.ch == nil {
		s.ch = make(chan struct{})
		if s.fired {
			close(s.ch)
		}
	}
	return s.ch
}

// fireLocked makes the event happen; later calls do nothing.
func (s *signal) fireLocked() {
	if s.fired {
		return
	}
	s.fired = true
	if s.ch != nil {
		close(s.ch)
	}
}
