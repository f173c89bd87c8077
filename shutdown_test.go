package websocket

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

// TestShutdownFromRegisterOnShutdown is the pattern of
// docs/keepalive-and-shutdown.md over HTTP/1.1: Upgrader.Shutdown runs from
// http.Server.RegisterOnShutdown, every client sees 1001, the handlers'
// reads fail with ErrShuttingDown and srv.Shutdown returns before its
// deadline. (internal/interop's TestHTTP2ShutdownPattern covers HTTP/2.)
func TestShutdownFromRegisterOnShutdown(t *testing.T) {
	for _, n := range []int{1, 10} {
		t.Run(fmt.Sprintf("%d clients", n), func(t *testing.T) {
			up := &Upgrader{}
			opened := make(chan struct{}, n)
			handlerErrs := make(chan error, n)
			srv := httptest.NewUnstartedServer(up.Handler(func(c *Conn) {
				opened <- struct{}{}
				for {
					if _, _, err := c.ReadMessage(); err != nil {
						handlerErrs <- err
						return
					}
				}
			}))
			upDone := make(chan error, 1)
			srv.Config.RegisterOnShutdown(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				upDone <- up.Shutdown(ctx)
			})
			srv.Start()
			defer srv.Close()

			clientErrs := make(chan error, n)
			for range n {
				c, _, err := DefaultDialer.Dial("ws://"+srv.Listener.Addr().String(), nil)
				require.NoError(t, err)
				defer c.Close()
				go func() {
					_, _, err := c.ReadMessage() // answers the close frame
					clientErrs <- err
				}()
			}
			for range n {
				within(t, opened, 10*time.Second, "the upgrade")
			}

			const timeout = 10 * time.Second
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			start := time.Now()
			require.NoError(t, srv.Config.Shutdown(ctx))
			assert.Less(t, time.Since(start), timeout, "srv.Shutdown returned before its deadline")
			// Hijacked connections are not waited for by srv.Shutdown: the
			// application waits for the hook.
			assert.NoError(t, within(t, upDone, timeout, "Upgrader.Shutdown"))
			for range n {
				err := within(t, clientErrs, timeout, "the client's read")
				assert.True(t, IsCloseError(err, CloseGoingAway), "client read: %v", err)
				assert.ErrorIs(t, within(t, handlerErrs, timeout, "the handler's read"), ErrShuttingDown)
			}
		})
	}
}
