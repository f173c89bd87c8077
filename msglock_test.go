package websocket

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// openWriter returns a NextWriter writer whose message has started going
// out (a first fragment was sent), so that it holds the message lock, and
// the bytes written to it.
func openWriter(t *testing.T, c *Conn) (*messageWriter, []byte) {
	t.Helper()
	w, err := c.NextWriter(BinaryMessage)
	require.NoError(t, err)
	p := bytes.Repeat([]byte("open writer "), 1000) // past the write buffer
	_, err = w.Write(p)
	require.NoError(t, err)
	mw := w.(*messageWriter)
	require.True(t, mw.locked, "the writer holds the message lock")
	return mw, p
}

// TestMessageLockWaitsEnd: a write waiting behind an open writer is
// released, with an error and nothing written, by each bound: a write
// deadline set before or while it waits, WriteTimeout, and Close.
func TestMessageLockWaitsEnd(t *testing.T) {
	cases := []struct {
		name    string
		before  func(c *Conn) // before the write starts waiting
		release func(c *Conn) // while it waits
		check   func(t *testing.T, err error)
	}{
		{"deadline set before", func(c *Conn) {
			_ = c.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
		}, func(*Conn) {}, isTimeout},
		{"deadline set while waiting", func(*Conn) {}, func(c *Conn) {
			_ = c.SetWriteDeadline(time.Now())
		}, isTimeout},
		{"WriteTimeout", func(c *Conn) { c.writeTimeout = 50 * time.Millisecond }, func(*Conn) {}, isTimeout},
		{"Close", func(*Conn) {}, func(c *Conn) { go func() { _ = c.Close() }() }, func(t *testing.T, err error) {
			assert.ErrorIs(t, err, ErrCloseSent)
		}},
	}
	writes := []struct {
		name  string
		write func(c *Conn) error
	}{
		{"WriteMessage", func(c *Conn) error { return c.WriteMessage(TextMessage, []byte("waits")) }},
		{"NextWriter", func(c *Conn) error { return writeChunks(c, TextMessage, bytes.Repeat([]byte("w"), 10000)) }},
		{"WritePreparedMessage", func(c *Conn) error {
			pm, err := NewPreparedMessage(TextMessage, []byte("prepared"))
			if err != nil {
				return err
			}
			return c.WritePreparedMessage(pm)
		}},
	}
	for _, tc := range cases {
		for _, wr := range writes {
			t.Run(tc.name+"/"+wr.name, func(t *testing.T) {
				setDuration(t, closeTimeout, 10*time.Second)
				sc, cc := connPair(t)
				clientRead := readLoop(cc)
				w, _ := openWriter(t, sc)
				tc.before(sc)
				waiting := make(chan error, 1)
				go func() { waiting <- wr.write(sc) }()
				tc.release(sc)
				tc.check(t, within(t, waiting, 10*time.Second, "the waiting write"))
				if tc.name == "Close" {
					within(t, clientRead, 10*time.Second, "the client's read")
					return
				}
				// Nothing was written: the connection goes on.
				require.NoError(t, sc.SetWriteDeadline(time.Time{}))
				sc.writeTimeout = 0
				require.NoError(t, w.Close())
				require.NoError(t, sc.WriteMessage(TextMessage, []byte("after")))
			})
		}
	}
}

func isTimeout(t *testing.T, err error) {
	t.Helper()
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.Timeout(), "%v is a timeout", err)
}

// TestSecondWriterSameGoroutine: a goroutine that opens a second writer
// without closing the first (as gorilla's "NextWriter closes the previous
// writer" lets programs do) does not deadlock: after the stall bound the
// first message is finished as it stands, the second goes out, and the
// first writer reports that it was ended.
func TestSecondWriterSameGoroutine(t *testing.T) {
	setDuration(t, defaultWriteStallTimeout, 100*time.Millisecond)
	sc, cc := connPair(t)
	first, p1 := openWriter(t, sc)
	done := make(chan error, 1)
	p2 := []byte("second message")
	go func() { // the same goroutine opens and uses both writers
		w2, err := sc.NextWriter(TextMessage)
		if err == nil {
			_, err = w2.Write(p2)
		}
		if err == nil {
			err = w2.Close()
		}
		done <- err
	}()
	require.NoError(t, within(t, done, 10*time.Second, "the second writer"))
	_, err := first.Write([]byte("more"))
	assert.ErrorIs(t, err, errWriterEnded)
	assert.ErrorIs(t, first.Close(), errWriterEnded)
	for _, want := range [][]byte{p1, p2} {
		_, got, err := cc.ReadMessage()
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
}

// TestDroppedWriterHoldsNothing: a writer dropped before its message went
// out (json.Encoder failed before writing) blocks nothing: the next write
// goes out at once, and nothing of the dropped message does.
func TestDroppedWriterHoldsNothing(t *testing.T) {
	sc, cc := connPair(t)
	w, err := sc.NextWriter(TextMessage)
	require.NoError(t, err)
	require.Error(t, json.NewEncoder(w).Encode(failJSON{}))
	done := make(chan error, 1)
	go func() { done <- sc.WriteMessage(TextMessage, []byte("next")) }()
	require.NoError(t, within(t, done, 10*time.Second, "the next write"))
	_, got, err := cc.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, "next", string(got))
}

// TestActiveWriterNotEnded: a writer in use by another goroutine is never
// ended by waiting writes, however long its message takes: only a writer
// that makes no call for the stall bound is.
func TestActiveWriterNotEnded(t *testing.T) {
	setDuration(t, defaultWriteStallTimeout, 400*time.Millisecond)
	sc, cc := connPair(t)
	w, p := openWriter(t, sc)
	waiting := make(chan error, 1)
	go func() { waiting <- sc.WriteMessage(TextMessage, []byte("after")) }()
	want := append([]byte(nil), p...)
	tick := time.NewTicker(10 * time.Millisecond) // calls well within the bound
	defer tick.Stop()
	for range 100 { // a second: more than two bounds
		<-tick.C
		_, err := w.Write([]byte("x"))
		require.NoError(t, err)
		want = append(want, 'x')
	}
	require.NoError(t, w.Close())
	require.NoError(t, within(t, waiting, 10*time.Second, "the waiting write"))
	_, got, err := cc.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, want, got)
	_, got, err = cc.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, "after", string(got))
}

// failJSON is a value json.Encoder fails to encode.
type failJSON struct{}

func (failJSON) MarshalJSON() ([]byte, error) { return nil, errors.New("cannot encode") }
