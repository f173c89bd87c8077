package websocket

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
