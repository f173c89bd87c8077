package websocket

import (
	"io"
	"net"
	"net/http/httptest"
	"runtime"
	"sync"
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

// TestWriteTimeout: the Upgrader's WriteTimeout cuts off a peer that does
// not read.
func TestWriteTimeout(t *testing.T) {
	up := Upgrader{WriteTimeout: 50 * time.Millisecond}
	result := make(chan error, 1)
	srv := httptest.NewServer(up.Handler(func(c *Conn) {
		big := make([]byte, 1<<20)
		for i := 0; i < 500; i++ {
			if err := c.WriteMessage(BinaryMessage, big); err != nil {
				result <- err
				return
			}
		}
		result <- nil
	}))
	defer srv.Close()
	_ = rawDial(t, srv, "") // never reads
	err := <-result
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.Timeout())
}

// TestSlowReaderBoundedMemory: 20 goroutines broadcast 64 KiB messages to a
// client that never reads. Writers wait for each other rather than queue,
// so the server holds about one message per writer; WriteTimeout then
// fails them all. The heap must not grow with the number of messages
// attempted (20 × 200 × 64 KiB = 250 MiB).
func TestSlowReaderBoundedMemory(t *testing.T) {
	up := Upgrader{WriteTimeout: 200 * time.Millisecond}
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	result := make(chan []error, 1)
	peakc := make(chan uint64, 1)
	srv := httptest.NewServer(up.Handler(func(c *Conn) {
		var wg sync.WaitGroup
		errs := make([]error, 20)
		for g := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 200; i++ {
					msg := make([]byte, 64<<10) // a fresh message each time, as an application would build
					if err := c.WriteMessage(BinaryMessage, msg); err != nil {
						errs[g] = err
						return
					}
				}
			}()
		}
		done := make(chan struct{})
		go func() {
			var ms runtime.MemStats
			var peak uint64
			for {
				select {
				case <-done:
					peakc <- peak
					return
				case <-time.After(20 * time.Millisecond):
				}
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak {
					peak = ms.HeapInuse
				}
			}
		}()
		wg.Wait()
		close(done)
		result <- errs
	}))
	defer srv.Close()
	_ = rawDial(t, srv, "") // never reads
	select {
	case errs := <-result:
		for _, err := range errs {
			var ne net.Error
			if assert.ErrorAs(t, err, &ne) {
				assert.True(t, ne.Timeout())
			}
		}
	case <-time.After(30 * time.Second):
		t.Fatal("writers to a stalled client did not fail")
	}
	growth := int64(<-peakc) - int64(before.HeapInuse)
	t.Logf("peak heap growth: %d KiB", growth>>10)
	assert.Less(t, growth, int64(64<<20), "heap grew with the messages attempted")
}

// TestWriteControlDeadlineWhileBusy: WriteControl gives up at its deadline
// when another frame holds the connection.
func TestWriteControlDeadlineWhileBusy(t *testing.T) {
	sc, _ := connPair(t)
	sc.frameMu <- struct{}{} // a frame write in progress
	err := sc.WriteControl(PingMessage, nil, time.Now().Add(20*time.Millisecond))
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.Timeout())
	<-sc.frameMu
	assert.NoError(t, sc.WriteControl(PingMessage, nil, time.Now().Add(time.Second)))
}
