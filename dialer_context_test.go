package websocket

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDialContextEnds(t *testing.T) {
	cases := []struct {
		name          string
		secure        bool // the server accepts TCP but never speaks TLS
		timeout       time.Duration
		ctxTimeout    time.Duration
		cancelOnBytes bool // cancel once the server got the first bytes
		want          error
	}{
		{"handshake timeout", false, 50 * time.Millisecond, 0, false, context.DeadlineExceeded},
		{"context deadline", false, 0, 50 * time.Millisecond, false, context.DeadlineExceeded},
		{"cancel", false, 0, 0, true, context.Canceled},
		{"cancel with timeout set", false, time.Hour, 0, true, context.Canceled},
		{"TLS handshake timeout", true, 50 * time.Millisecond, 0, false, context.DeadlineExceeded},
		{"TLS cancel", true, 0, 0, true, context.Canceled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.ctxTimeout > 0 {
				ctx, cancel = context.WithTimeout(ctx, tc.ctxTimeout)
				defer cancel()
			}
			addr, res := startDialScript(t, !tc.secure, func(*http.Request) []byte {
				if tc.cancelOnBytes {
					cancel()
				}
				return nil
			})
			scheme := "ws://"
			if tc.secure {
				scheme = "wss://"
			}
			d := &Dialer{HandshakeTimeout: tc.timeout, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
			type out struct {
				c    *Conn
				resp *http.Response
				err  error
			}
			done := make(chan out, 1)
			go func() {
				c, resp, err := d.DialContext(ctx, scheme+addr, nil)
				done <- out{c, resp, err}
			}()
			var o out
			select {
			case o = <-done:
			case <-time.After(dialTestTimeout):
				t.Fatal("DialContext did not return")
			}
			assert.Nil(t, o.c)
			assert.Nil(t, o.resp)
			assert.ErrorIs(t, o.err, tc.want)
			r := awaitScript(t, res)
			require.NoError(t, r.err)
			assert.True(t, r.eof, "client did not close the connection")
		})
	}
}

func TestDialContextEndedBeforeDial(t *testing.T) {
	var rec dialRecorder
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := (&Dialer{NetDialContext: rec.dial}).DialContext(ctx, "ws://example.com", nil)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, rec.addrs)

	// A dial function that waits for the context.
	blocking := func(ctx context.Context, _, _ string) (net.Conn, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	d := &Dialer{NetDialContext: blocking, HandshakeTimeout: 20 * time.Millisecond}
	_, _, err = d.Dial("ws://example.com", nil)
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	var nilCtx context.Context
	_, _, err = d.DialContext(nilCtx, "ws://example.com", nil)
	assert.Error(t, err)
}

// deadlineConn records the deadlines set on a net.Conn.
type deadlineConn struct {
	net.Conn
	mu        sync.Mutex
	deadlines []time.Time
}

func (c *deadlineConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadlines = append(c.deadlines, t)
	c.mu.Unlock()
	return c.Conn.SetDeadline(t)
}

// TestDialClearsDeadline checks that the Conn returned has no deadline and
// keeps working once the dial's context is canceled.
func TestDialClearsDeadline(t *testing.T) {
	srv := dialEchoServer(t, &Upgrader{}, false)
	var dc *deadlineConn
	d := &Dialer{
		HandshakeTimeout: time.Hour,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var nd net.Dialer
			nc, err := nd.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			dc = &deadlineConn{Conn: nc}
			return dc, nil
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	c, _, err := d.DialContext(ctx, "ws://"+srv.Listener.Addr().String(), nil)
	require.NoError(t, err)
	defer c.Close()
	cancel()
	dc.mu.Lock()
	deadlines := append([]time.Time(nil), dc.deadlines...)
	dc.mu.Unlock()
	require.Len(t, deadlines, 2)
	assert.False(t, deadlines[0].IsZero(), "handshake ran without a deadline")
	assert.True(t, deadlines[1].IsZero(), "deadline not cleared")
	require.NoError(t, c.WriteMessage(TextMessage, []byte("still here")))
	_, p, err := c.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, "still here", string(p))
}
