package interop

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"github.com/wsup/websocket"
)

const (
	// ioTimeout bounds every single network step of a test (a dial, one
	// message read or write, a close handshake). It is generous so that
	// 16 MiB messages under -race on a small machine stay within it.
	ioTimeout = 60 * time.Second

	// sessionTimeout bounds a whole server-side session: the server reads
	// with this deadline, so no handler outlives its test by long.
	sessionTimeout = 3 * time.Minute

	// clientReadLimit is the read limit the clients set: above the largest
	// message the tests send (16 MiB).
	clientReadLimit = 32 << 20
)

// testServer is a wsup Upgrader behind an httptest server that listens on
// 127.0.0.1 only.
type testServer struct {
	srv *httptest.Server
	// wsURL is the ws:// URL of the server's root.
	wsURL string
	// host is the host:port the server listens on.
	host string

	handlers sync.WaitGroup
	// upgradeErrs receives Upgrade's error for every refused handshake.
	upgradeErrs chan error
}

// newTestServer starts a server that upgrades every request with up and
// runs handle on the resulting connection in the request's goroutine. The
// connection gets a read deadline of sessionTimeout first and is closed after
// handle returns. The server is shut down at the end of the test, which waits
// (bounded) for every handler to return.
func newTestServer(t *testing.T, up *websocket.Upgrader, handle func(c *websocket.Conn)) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ts := &testServer{upgradeErrs: make(chan error, 16)}
	ts.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.handlers.Add(1)
		defer ts.handlers.Done()
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			select {
			case ts.upgradeErrs <- err:
			default:
			}
			return
		}
		defer c.Close()
		if err := c.SetReadDeadline(time.Now().Add(sessionTimeout)); err != nil {
			return
		}
		handle(c)
	}))
	ts.srv.Listener = ln
	ts.srv.Start()
	ts.host = ln.Addr().String()
	ts.wsURL = "ws://" + ts.host + "/"
	t.Cleanup(func() {
		ts.srv.Close()
		done := make(chan struct{})
		go func() {
			ts.handlers.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(ioTimeout):
			t.Errorf("server handlers still running %v after the test", ioTimeout)
		}
	})
	return ts
}

// echoMode selects how an echo server copies messages back.
type echoMode int

const (
	// echoWhole reads with ReadMessage and answers with WriteMessage.
	echoWhole echoMode = iota
	// echoStream copies NextReader into NextWriter, so long messages go
	// back as several fragments.
	echoStream
)

func (m echoMode) String() string {
	if m == echoStream {
		return "stream"
	}
	return "whole"
}

// echoServer starts a server that echoes every data message with the same
// type until the read fails. The read error that ended each session (the
// client's *websocket.CloseError for a clean close) is sent on the returned
// channel, which holds up to 16 of them.
func echoServer(t *testing.T, up *websocket.Upgrader, mode echoMode) (*testServer, <-chan error) {
	t.Helper()
	ends := make(chan error, 16)
	ts := newTestServer(t, up, func(c *websocket.Conn) {
		err := echo(c, mode)
		select {
		case ends <- err:
		default:
		}
	})
	return ts, ends
}

// echo runs one echo session on c and returns the error that ended it.
func echo(c *websocket.Conn, mode echoMode) error {
	c.SetReadLimit(clientReadLimit)
	for {
		if err := echoOne(c, mode); err != nil {
			return err
		}
	}
}

// echoOne reads one message and writes it back with the same type.
func echoOne(c *websocket.Conn, mode echoMode) error {
	if mode == echoWhole {
		mt, p, err := c.ReadMessage()
		if err != nil {
			return err
		}
		return c.WriteMessage(mt, p)
	}
	mt, r, err := c.NextReader()
	if err != nil {
		return err
	}
	w, err := c.NextWriter(mt)
	if err != nil {
		return err
	}
	_, copyErr := io.Copy(w, r)
	if err := w.Close(); err != nil {
		return err
	}
	return copyErr
}

// recv waits up to ioTimeout for a value on ch.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(ioTimeout):
		require.FailNowf(t, "timeout", "no %s within %v", what, ioTimeout)
	}
	var zero T
	return zero
}

// closeErr returns err as a *websocket.CloseError, failing the test when it
// is not one.
func closeErr(t *testing.T, err error) *websocket.CloseError {
	t.Helper()
	var ce *websocket.CloseError
	require.Truef(t, errors.As(err, &ce), "want a *websocket.CloseError, got %T: %v", err, err)
	return ce
}

// payloadCase is one message to send and get back.
type payloadCase struct {
	name string
	typ  int // websocket.TextMessage or websocket.BinaryMessage
	data []byte
}

// echoSizes are the message sizes the echo tests use: the frame length
// encoding boundaries (125/126, 65535/65536) and large messages.
var echoSizes = []int{0, 1, 125, 126, 65535, 65536, 1 << 20, 16 << 20}

// echoCases returns text (ASCII) and binary messages of every echo size,
// plus non-ASCII text messages.
func echoCases() []payloadCase {
	var cases []payloadCase
	for _, n := range echoSizes {
		cases = append(cases,
			payloadCase{name: "text/" + sizeName(n), typ: websocket.TextMessage, data: asciiPayload(n)},
			payloadCase{name: "binary/" + sizeName(n), typ: websocket.BinaryMessage, data: binaryPayload(n, uint64(n)+1)},
		)
	}
	cases = append(cases,
		payloadCase{name: "utf8/short", typ: websocket.TextMessage, data: []byte("héllo wörld ✓ 日本語 🎉")},
		payloadCase{name: "utf8/65536", typ: websocket.TextMessage, data: utf8Payload(65536)},
		payloadCase{name: "utf8/1MiB", typ: websocket.TextMessage, data: utf8Payload(1 << 20)},
	)
	return cases
}

// sizeName names a size for a subtest.
func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + "MiB"
	default:
		return strconv.Itoa(n)
	}
}

// asciiPayload returns n bytes of printable ASCII text.
func asciiPayload(n int) []byte {
	const alphabet = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789\n"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[(i*7+i/len(alphabet))%len(alphabet)]
	}
	return b
}

// binaryPayload returns n pseudo-random bytes (xorshift64 from seed), so
// the bytes cover every value including invalid UTF-8.
func binaryPayload(n int, seed uint64) []byte {
	x := seed*0x9E3779B97F4A7C15 | 1
	b := make([]byte, n)
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x >> 32)
	}
	return b
}

// utf8Payload returns at most n bytes of valid UTF-8 text mixing 1-, 2-, 3-
// and 4-byte characters, cut at a character boundary.
func utf8Payload(n int) []byte {
	const unit = "aé日🎉ж€𝄞z"
	s := strings.Repeat(unit, n/len(unit)+1)
	b := []byte(s[:n])
	for !utf8.Valid(b) {
		b = b[:len(b)-1]
	}
	return b
}
