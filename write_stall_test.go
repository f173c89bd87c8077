package websocket

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// smallBuffers shrinks the socket buffers of a TCP pair, so that a peer
// that stops reading stops the writer after little data.
func smallBuffers(t *testing.T, s, cl net.Conn) {
	t.Helper()
	require.NoError(t, s.(*net.TCPConn).SetWriteBuffer(16<<10))
	require.NoError(t, cl.(*net.TCPConn).SetReadBuffer(16<<10))
}

// TestWriteStallBound: with the default WriteTimeout, a peer that takes no
// byte for the stall bound fails the write with a timeout, and the
// connection (it is closed, reads return the error). With a negative
// WriteTimeout there is no bound: the write waits until Close.
func TestWriteStallBound(t *testing.T) {
	setDuration(t, defaultWriteStallTimeout, 200*time.Millisecond)
	for _, size := range []int{1 << 10, 3 << 20} { // one frame; several stall chunks
		s, cl := tcpPair(t)
		smallBuffers(t, s, cl)
		sc := newConn(s, connConfig{isServer: true})
		done := make(chan error, 1)
		go func() {
			msg := make([]byte, size)
			for range 100000 { // bounded: the socket buffers hold far less
				if err := sc.WriteMessage(BinaryMessage, msg); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		isTimeout(t, within(t, done, 10*time.Second, "the stalled write"))
		_, _, err := sc.ReadMessage()
		isTimeout(t, err)
		_, err = s.Write([]byte{0})
		assert.ErrorIs(t, err, net.ErrClosed, "the connection was closed")
	}

	t.Run("negative WriteTimeout: no bound", func(t *testing.T) {
		s, cl := tcpPair(t)
		smallBuffers(t, s, cl)
		sc := newConn(s, connConfig{isServer: true})
		sc.writeTimeout = -1
		done := make(chan error, 1)
		go func() { done <- sc.WriteMessage(BinaryMessage, make([]byte, 8<<20)) }()
		select {
		case err := <-done:
			t.Fatalf("the write ended (%v) with no bound set", err)
		case <-time.After(10 * defaultWriteStallTimeout.get()):
		}
		setDuration(t, closeTimeout, 100*time.Millisecond) // the close frame cannot go out
		go func() { _ = sc.Close() }()
		assert.Error(t, within(t, done, 15*time.Second, "the write after Close"))
	})
}

// TestWriteStallProgress: a slow peer that keeps reading is not cut off,
// although the whole message takes several stall bounds: the bound is on
// time without progress.
func TestWriteStallProgress(t *testing.T) {
	setDuration(t, defaultWriteStallTimeout, time.Second)
	s, cl := tcpPair(t)
	smallBuffers(t, s, cl)
	sc := newConn(s, connConfig{isServer: true})
	const size = 6 << 20
	done := make(chan error, 1)
	go func() { done <- sc.WriteMessage(BinaryMessage, make([]byte, size)) }()
	// About 2 MiB/s: the message takes three bounds, each chunk under
	// half of one.
	buf := make([]byte, 64<<10)
	tick := time.NewTicker(30 * time.Millisecond)
	defer tick.Stop()
	total := 0
	for total < size+10 {
		<-tick.C
		require.NoError(t, cl.SetReadDeadline(time.Now().Add(5*time.Second)))
		n, err := io.ReadFull(cl, buf[:min(len(buf), size+10-total)])
		require.NoError(t, err)
		total += n
	}
	require.NoError(t, within(t, done, 10*time.Second, "the slow write"))
}
