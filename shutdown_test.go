package websocket

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsup/websocket/frame"
)

// rawDial opens a WebSocket to srv by hand (no Dialer), offering exts.
func rawDial(t testing.TB, srv *httptest.Server, exts string) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	req := "GET / HTTP/1.1\r\nHost: " + srv.Listener.Addr().String() + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
	if exts != "" {
		req += "Sec-WebSocket-Extensions: " + exts + "\r\n"
	}
	_, err = nc.Write([]byte(req + "\r\n"))
	require.NoError(t, err)
	rc := newRawClient(t, nc)
	require.NoError(t, nc.SetReadDeadline(time.Now().Add(5*time.Second)))
	resp, err := http.ReadResponse(rc.br, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	return rc
}

// TestShutdown: 100 live connections all see 1001, the handlers' reads fail
// with ErrShuttingDown, no goroutine is left, and later handshakes get 503.
func TestShutdown(t *testing.T) {
	base := runtime.NumGoroutine()
	var up Upgrader
	var handlerErrs sync.WaitGroup
	errs := make(chan error, 100)
	started := make(chan struct{}, 100)
	srv := httptest.NewServer(up.Handler(func(c *Conn) {
		defer handlerErrs.Done()
		started <- struct{}{}
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				errs <- err
				return
			}
		}
	}))
	const n = 100
	handlerErrs.Add(n)
	clients := make([]*Conn, n)
	clientErrs := make(chan error, n)
	for i := range clients {
		rc := rawDial(t, srv, "")
		clients[i] = newConn(rc.nc, connConfig{br: rc.br})
		go func(c *Conn) {
			_, _, err := c.ReadMessage()
			clientErrs <- err
		}(clients[i])
	}
	for i := 0; i < n; i++ {
		<-started // every connection is tracked
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, up.Shutdown(ctx))
	for i := 0; i < n; i++ {
		assert.True(t, IsCloseError(<-clientErrs, CloseGoingAway))
	}
	handlerErrs.Wait()
	for i := 0; i < n; i++ {
		assert.ErrorIs(t, <-errs, ErrShuttingDown)
	}
	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	// A plain GET would get 426; after shutdown every request gets 503.
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	srv.Close()
	http.DefaultClient.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), base, "goroutines left after shutdown")
}

// TestShutdownContextEnds: peers that never answer are cut off when ctx
// ends, and Shutdown reports it.
func TestShutdownContextEnds(t *testing.T) {
	var up Upgrader
	started := make(chan struct{}, 1)
	srv := httptest.NewServer(up.Handler(func(c *Conn) {
		started <- struct{}{}
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	rc := rawDial(t, srv, "") // never answers the close
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, up.Shutdown(ctx), context.DeadlineExceeded)
	code, _ := rc.expectClose()
	assert.Equal(t, CloseGoingAway, code)
	rc.expectEOF()
}

// TestHooks: OnOpen, OnClose with the code and OnReject with the status.
func TestHooks(t *testing.T) {
	var mu sync.Mutex
	var events []string
	record := func(s string) { mu.Lock(); events = append(events, s); mu.Unlock() }
	closed := make(chan struct{})
	up := Upgrader{Hooks: Hooks{
		OnOpen: func(*Conn) { record("open") },
		OnClose: func(_ *Conn, code int, d time.Duration) {
			record(fmt.Sprintf("close %d", code))
			assert.Greater(t, d, time.Duration(0))
			close(closed)
		},
		OnReject: func(_ *http.Request, status int, err error) {
			record(fmt.Sprintf("reject %d", status))
			assert.ErrorIs(t, err, ErrMissingUpgrade)
		},
	}}
	srv := httptest.NewServer(up.Handler(func(c *Conn) { _, _, _ = c.ReadMessage() }))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	rc := rawDial(t, srv, "")
	rc.send(rawFrame{fin: true, op: frame.OpClose, payload: closePayload(4001, "bye")})
	rc.expectClose()
	<-closed
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"reject 426", "open", "close 4001"}, events)
}

// TestUpgraderCompression: the Upgrader negotiates permessage-deflate and
// the connection then compresses.
func TestUpgraderCompression(t *testing.T) {
	up := Upgrader{EnableCompression: true, Compression: &CompressionOptions{Threshold: -1}}
	srv := httptest.NewServer(up.Handler(func(c *Conn) {
		for {
			mt, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			_ = c.WriteMessage(mt, p)
		}
	}))
	defer srv.Close()
	rc := rawDial(t, srv, "x-unknown, permessage-deflate; server_max_window_bits=10; client_no_context_takeover")
	msg := strings.Repeat("compress me ", 50)
	rc.send(rawFrame{fin: true, rsv: 0x40, op: frame.OpText, payload: deflateRaw(t, []byte(msg))})
	f, err := rc.read()
	require.NoError(t, err)
	assert.True(t, f.h.Rsv1)
	assert.Less(t, len(f.payload), len(msg))
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
