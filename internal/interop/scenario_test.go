package interop

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/wsup/websocket"
)

// This file holds the server-side scenarios and checks that the gorilla,
// coder and Node client tests share.

// assertSamePayload checks that got equals want without printing megabytes
// of diff when they differ.
func assertSamePayload(t *testing.T, want, got []byte) bool {
	t.Helper()
	if bytes.Equal(want, got) {
		return true
	}
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	return assert.Failf(t, "payload differs",
		"want %d bytes, got %d bytes; first difference at offset %d", len(want), len(got), i)
}

// Concurrent-write scenario sizes: writers goroutines each write
// perWriter messages.
const (
	concurrentWriters   = 20
	concurrentPerWriter = 10
)

// concurrentMessage returns the message writer w sends as its m-th message
// in the concurrent-write scenario and its type. It starts with "w,m;" so
// the receiver can tell which message it got; lengths vary up to ~70 KB so
// that they cross the 16-bit length boundary and the write buffer size.
func concurrentMessage(w, m int) (typ int, data []byte) {
	prefix := fmt.Sprintf("%d,%d;", w, m)
	n := 1 + (w*7919+m*104729)%70000
	if w%2 == 0 {
		return websocket.BinaryMessage, append([]byte(prefix), binaryPayload(n, uint64(w*1000+m+1))...)
	}
	return websocket.TextMessage, append([]byte(prefix), utf8Payload(n)...)
}

// concurrentOptions selects how the server writes in the concurrent-write
// scenario.
type concurrentOptions struct {
	name string
	// nextWriter writes each message with NextWriter in chunks of 1000
	// bytes instead of WriteMessage.
	nextWriter bool
	// pings adds a goroutine that sends pings while the writers run.
	pings bool
}

var concurrentCases = []concurrentOptions{
	{name: "WriteMessage"},
	{name: "NextWriter", nextWriter: true},
	{name: "WriteMessage+pings", pings: true},
	{name: "NextWriter+pings", nextWriter: true, pings: true},
}

// concurrentWriteHandler returns a server handler that writes every
// concurrentMessage from concurrentWriters goroutines at once, then reads
// until the client closes. The first write error, or the read error that
// ended the session, is sent on the returned channel.
func concurrentWriteHandler(opts concurrentOptions) (func(c *websocket.Conn), <-chan error) {
	results := make(chan error, 2)
	return func(c *websocket.Conn) {
		var (
			wg       sync.WaitGroup
			firstErr atomic.Pointer[error]
			done     = make(chan struct{})
		)
		setErr := func(err error) {
			if err != nil {
				firstErr.CompareAndSwap(nil, &err)
			}
		}
		pingDone := make(chan struct{})
		if opts.pings {
			go func() {
				defer close(pingDone)
				for i := 0; ; i++ {
					select {
					case <-done:
						return
					default:
					}
					err := c.WriteControl(websocket.PingMessage, []byte(fmt.Sprintf("p%d", i)), time.Now().Add(ioTimeout))
					if err != nil {
						setErr(fmt.Errorf("ping %d: %w", i, err))
						return
					}
					time.Sleep(time.Millisecond)
				}
			}()
		} else {
			close(pingDone)
		}
		for w := 0; w < concurrentWriters; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for m := 0; m < concurrentPerWriter; m++ {
					typ, data := concurrentMessage(w, m)
					if err := writeConcurrent(c, opts.nextWriter, typ, data); err != nil {
						setErr(fmt.Errorf("writer %d message %d: %w", w, m, err))
						return
					}
				}
			}(w)
		}
		wg.Wait()
		close(done)
		<-pingDone
		if p := firstErr.Load(); p != nil {
			results <- *p
			return
		}
		// Drain until the client closes; it sends nothing else.
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				results <- err
				return
			}
		}
	}, results
}

// writeConcurrent writes one message with WriteMessage, or with NextWriter
// in 1000-byte chunks.
func writeConcurrent(c *websocket.Conn, nextWriter bool, typ int, data []byte) error {
	if !nextWriter {
		return c.WriteMessage(typ, data)
	}
	w, err := c.NextWriter(typ)
	if err != nil {
		return err
	}
	for rest := data; len(rest) > 0; {
		n := min(1000, len(rest))
		if _, err := w.Write(rest[:n]); err != nil {
			_ = w.Close()
			return err
		}
		rest = rest[n:]
	}
	return w.Close()
}

// concurrentChecker checks the messages a client receives in the
// concurrent-write scenario.
type concurrentChecker struct {
	next [concurrentWriters]int // next expected m per writer
}

// check verifies one received message: it must be a whole message of the
// right type, and each writer's messages must arrive in order.
func (cc *concurrentChecker) check(t *testing.T, typ int, data []byte) {
	t.Helper()
	var w, m int
	if _, err := fmt.Sscanf(string(data[:min(len(data), 16)]), "%d,%d;", &w, &m); err != nil ||
		w < 0 || w >= concurrentWriters || m < 0 || m >= concurrentPerWriter {
		assert.Failf(t, "unexpected message", "cannot parse prefix of %d-byte message %q", len(data), data[:min(len(data), 16)])
		return
	}
	wantTyp, want := concurrentMessage(w, m)
	assert.Equalf(t, wantTyp, typ, "type of message %d,%d", w, m)
	assertSamePayload(t, want, data)
	assert.Equalf(t, cc.next[w], m, "writer %d: messages out of order", w)
	cc.next[w] = m + 1
}

// complete checks that every message was received.
func (cc *concurrentChecker) complete(t *testing.T) {
	t.Helper()
	for w, n := range cc.next {
		assert.Equalf(t, concurrentPerWriter, n, "writer %d: messages received", w)
	}
}

// countingConn counts the Write calls made on a net.Conn; clients write one
// frame per call, so the count tells how many frames a message took.
type countingConn struct {
	net.Conn
	writes atomic.Int64
	read   atomic.Int64 // bytes read
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

// fragmentCase is a message a client sends in several pieces.
type fragmentCase struct {
	name   string
	typ    int
	data   []byte
	chunks int // size of each Write
}

// fragmentCases are messages written in small pieces; the utf8 ones split
// multi-byte characters across pieces and frames.
func fragmentCases() []fragmentCase {
	return []fragmentCase{
		{name: "text/10x100", typ: websocket.TextMessage, data: asciiPayload(1000), chunks: 100},
		{name: "binary/5000 in 37", typ: websocket.BinaryMessage, data: binaryPayload(5000, 7), chunks: 37},
		{name: "utf8/3000 in 7", typ: websocket.TextMessage, data: utf8Payload(3000), chunks: 7},
		{name: "binary/200000 in 65536", typ: websocket.BinaryMessage, data: binaryPayload(200000, 9), chunks: 65536},
		{name: "utf8/70000 in 333", typ: websocket.TextMessage, data: utf8Payload(70000), chunks: 333},
	}
}

// writeChunks writes data to w in pieces of size n and closes w.
func writeChunks(w io.WriteCloser, data []byte, n int) error {
	for rest := data; len(rest) > 0; {
		k := min(n, len(rest))
		if _, err := w.Write(rest[:k]); err != nil {
			_ = w.Close()
			return err
		}
		rest = rest[k:]
	}
	return w.Close()
}

// closeCase is a close frame a client sends.
type closeCase struct {
	name   string
	code   int
	reason string
}

var clientCloseCases = []closeCase{
	{name: "1000 no reason", code: websocket.CloseNormalClosure},
	{name: "1000 with reason", code: websocket.CloseNormalClosure, reason: "done"},
	{name: "1001", code: websocket.CloseGoingAway, reason: "going away"},
	{name: "4000 reason", code: 4000, reason: "custom reason"},
	{name: "4999 utf8 reason", code: 4999, reason: "ünïcødé ✓"},
	{name: "3000 max reason", code: 3000, reason: string(asciiPayload(123))},
}

// pingPayloads are ping application data: empty, text, binary, and the
// largest a control frame carries.
var pingPayloads = []struct {
	name string
	data []byte
}{
	{"empty", nil},
	{"text", []byte("hello ping")},
	{"binary", []byte{0, 0xff, 0xfe, 0x80, 1}},
	{"125 bytes", asciiPayload(125)},
}

// serverPingHandler returns a server handler that sends a ping carrying
// payload, and when the pong arrives reports its payload on the returned
// channel and sends the text message "pong:"+payload. It then reads until
// the client closes.
func serverPingHandler(payload []byte) (func(c *websocket.Conn), <-chan string) {
	pongs := make(chan string, 4)
	return func(c *websocket.Conn) {
		c.SetPongHandler(func(appData string) error {
			select {
			case pongs <- appData:
			default:
			}
			return c.WriteMessage(websocket.TextMessage, []byte("pong:"+appData))
		})
		if err := c.WriteControl(websocket.PingMessage, payload, time.Now().Add(ioTimeout)); err != nil {
			return
		}
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}, pongs
}

// serverCloseCase is a way for the server to start the closing handshake.
type serverCloseCase struct {
	name       string
	wantCode   int
	wantReason string
	// start begins the close on c and returns what the server saw.
	start func(c *websocket.Conn) serverCloseResult
}

// serverCloseResult is the server's view of a close it started.
type serverCloseResult struct {
	// err is Close's result, or the read error after WriteControl.
	err error
	// replyCode is the code of the client's answering close frame, as the
	// server's close handler saw it (0 when no close frame arrived).
	replyCode int
}

var serverCloseCases = []serverCloseCase{
	{
		name:     "Close",
		wantCode: websocket.CloseNormalClosure,
		start: func(c *websocket.Conn) serverCloseResult {
			var res serverCloseResult
			c.SetCloseHandler(func(code int, _ string) error {
				res.replyCode = code
				return nil
			})
			res.err = c.Close()
			return res
		},
	},
	{
		name:       "WriteControl 4001 bye",
		wantCode:   4001,
		wantReason: "bye",
		start: func(c *websocket.Conn) serverCloseResult {
			var res serverCloseResult
			c.SetCloseHandler(func(code int, _ string) error {
				res.replyCode = code
				return nil
			})
			if res.err = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4001, "bye"), time.Now().Add(ioTimeout)); res.err != nil {
				return res
			}
			_, _, res.err = c.ReadMessage()
			return res
		},
	},
}

// serverCloseHandler runs sc.start and reports its result.
func serverCloseHandler(sc serverCloseCase) (func(c *websocket.Conn), <-chan serverCloseResult) {
	results := make(chan serverCloseResult, 1)
	return func(c *websocket.Conn) { results <- sc.start(c) }, results
}

// checkServerCloseResult checks the server's side of a server-started
// close: the client must have answered with a close frame echoing the code;
// Close must then succeed, and after WriteControl the read must return that
// close frame.
func checkServerCloseResult(t *testing.T, sc serverCloseCase, res serverCloseResult) {
	t.Helper()
	assert.Equal(t, sc.wantCode, res.replyCode, "code of the client's answering close frame")
	if sc.name == "Close" {
		assert.NoError(t, res.err, "server Close")
		return
	}
	assert.Truef(t, websocket.IsCloseError(res.err, sc.wantCode), "server read after its close frame: want close %d, got %v", sc.wantCode, res.err)
}

// subprotocolCases pair server preferences with client offers.
var subprotocolCases = []struct {
	name   string
	server []string
	client []string
	want   string
}{
	{name: "server preference wins", server: []string{"chat.v2", "chat.v1"}, client: []string{"chat.v1", "chat.v2"}, want: "chat.v2"},
	{name: "single common", server: []string{"chat.v1"}, client: []string{"other", "chat.v1"}, want: "chat.v1"},
	{name: "no common", server: []string{"chat.v1"}, client: []string{"other"}, want: ""},
	{name: "server has none", client: []string{"chat.v1"}, want: ""},
	{name: "client offers none", server: []string{"chat.v1"}, want: ""},
	{name: "case sensitive", server: []string{"Chat"}, client: []string{"chat"}, want: ""},
}

// subprotocolHandler reports the server side's negotiated subprotocol and
// then echoes until the client closes.
func subprotocolHandler() (func(c *websocket.Conn), <-chan string) {
	got := make(chan string, 1)
	return func(c *websocket.Conn) {
		got <- c.Subprotocol()
		_ = echo(c, echoWhole)
	}, got
}
