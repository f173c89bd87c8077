package websocket

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// stalledWriter is an http.ResponseWriter whose Write blocks, as net/http's
// HTTP/2 writer does while the peer's flow-control window is 0, until the
// test releases it.
type stalledWriter struct {
	header  http.Header
	entered chan struct{} // gets a value each time a Write starts
	release chan struct{} // closed to let blocked Writes succeed
	abort   chan struct{} // closed when a write deadline in the past is set
	once    sync.Once
}

func newStalledWriter() *stalledWriter {
	return &stalledWriter{
		header:  http.Header{},
		entered: make(chan struct{}, 16),
		release: make(chan struct{}),
		abort:   make(chan struct{}),
	}
}

func (w *stalledWriter) Header() http.Header { return w.header }
func (w *stalledWriter) WriteHeader(int)     {}
func (w *stalledWriter) Flush()              {}

func (w *stalledWriter) Write(p []byte) (int, error) {
	w.entered <- struct{}{}
	select {
	case <-w.release:
		return len(p), nil
	case <-w.abort:
		return 0, os.ErrDeadlineExceeded
	}
}

// deadlineWriter is a stalledWriter that, like net/http's HTTP/2 writer,
// supports write deadlines: one in the past fails the blocked Write.
type deadlineWriter struct{ *stalledWriter }

func (w deadlineWriter) SetWriteDeadline(t time.Time) error {
	if !t.IsZero() && t.Before(time.Now()) {
		w.once.Do(func() { close(w.abort) })
	}
	return nil
}

// stalledStream returns a streamConn over a stalled writer (wrapped in a
// deadlineWriter when deadlines is set). The writer is released when the
// test ends, so that nothing stays blocked.
func stalledStream(t *testing.T, deadlines bool) (*streamConn, *stalledWriter) {
	sw := newStalledWriter()
	t.Cleanup(func() { close(sw.release) })
	var w http.ResponseWriter = sw
	if deadlines {
		w = deadlineWriter{sw}
	}
	r := httptest.NewRequest(http.MethodConnect, "/", strings.NewReader(""))
	r.Body = io.NopCloser(r.Body)
	return newStreamConn(r, w, http.NewResponseController(w)), sw
}

var stalledCases = []struct {
	name      string
	deadlines bool // the writer supports write deadlines, as net/http's does
}{
	{"writer without deadlines", false},
	{"writer with deadlines", true},
}

// TestStreamConnCloseDuringBlockedWrite: Close returns while a Write is
// blocked in the ResponseWriter; when the writer supports write deadlines,
// the Write is aborted and has returned by the time Close does.
func TestStreamConnCloseDuringBlockedWrite(t *testing.T) {
	for _, tc := range stalledCases {
		t.Run(tc.name, func(t *testing.T) {
			sc, sw := stalledStream(t, tc.deadlines)
			writeErr := make(chan error, 1)
			go func() {
				_, err := sc.Write([]byte("stuck"))
				writeErr <- err
			}()
			within(t, sw.entered, 5*time.Second, "the write")

			closeErr := make(chan error, 1)
			go func() { closeErr <- sc.Close() }()
			assert.NoError(t, within(t, closeErr, 5*time.Second, "Close during a blocked Write"))

			if tc.deadlines {
				select {
				case err := <-writeErr:
					assert.ErrorIs(t, err, net.ErrClosed)
				default:
					assert.Fail(t, "Close returned while the aborted Write was still inside the writer")
				}
			} else {
				select {
				case err := <-writeErr:
					assert.Failf(t, "the Write returned", "without being released: %v", err)
				default:
				}
				sw.once.Do(func() { close(sw.abort) })
				assert.ErrorIs(t, within(t, writeErr, 5*time.Second, "the released Write"), net.ErrClosed)
			}

			// After Close, writes never reach the ResponseWriter.
			_, err := sc.Write([]byte("late"))
			assert.ErrorIs(t, err, net.ErrClosed)
			assert.Empty(t, sw.entered, "a write after Close reached the writer")
			assert.ErrorIs(t, sc.Close(), net.ErrClosed, "second Close")
		})
	}
}

// TestConnCloseDuringBlockedStreamWrite: a server Conn over HTTP/2 whose
// peer stopped reading (a data frame write blocked for good) still
// finishes Close within its bound: the close frame cannot go out, so Close
// gives up after closeTimeout and closes the stream.
func TestConnCloseDuringBlockedStreamWrite(t *testing.T) {
	for _, tc := range stalledCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sc, sw := stalledStream(t, tc.deadlines)
			c := newConn(sc, connConfig{isServer: true})
			writeErr := make(chan error, 1)
			go func() { writeErr <- c.WriteMessage(BinaryMessage, make([]byte, 1<<16)) }()
			within(t, sw.entered, 5*time.Second, "the data frame write")

			closeErr := make(chan error, 1)
			start := time.Now()
			go func() { closeErr <- c.Close() }()
			// Close waits closeTimeout (5 s) for the frame lock, then closes
			// the stream: the close frame was never sent, which Close
			// reports (a timeout, or the failed write's error).
			assert.Error(t, within(t, closeErr, 2*closeTimeout.get(), "Conn.Close"))
			assert.Less(t, time.Since(start), 2*closeTimeout.get())

			if !tc.deadlines {
				sw.once.Do(func() { close(sw.abort) })
			}
			err := within(t, writeErr, 5*time.Second, "the blocked WriteMessage")
			assert.True(t, errors.Is(err, net.ErrClosed), "WriteMessage: %v", err)
		})
	}
}
