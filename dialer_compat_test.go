package websocket

// Compatibility tests for the client side: each asserts what a program
// written for gorilla/websocket v1.5.3 expects from the Dialer.

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCompatBadHandshakeSentinel: a refused handshake returns the
// ErrBadHandshake value itself, so `err == websocket.ErrBadHandshake`
// holds, with the response; BadHandshakeReason names the failed check.
func TestCompatBadHandshakeSentinel(t *testing.T) {
	cases := []struct {
		name        string
		compress    bool
		respond     func(*http.Request) []byte
		status      int
		body        string
		reasonMatch string
	}{
		{"status 403 with body", false, func(*http.Request) []byte {
			return []byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\n\r\nnope!\n")
		}, http.StatusForbidden, "nope!\n", `status "403 Forbidden"`},
		{"wrong accept", false, func(*http.Request) []byte {
			return []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n")
		}, http.StatusSwitchingProtocols, "", "Sec-WebSocket-Accept"},
		{"extension not offered", false, func(r *http.Request) []byte {
			return response101(r, "Sec-WebSocket-Extensions: permessage-deflate")
		}, http.StatusSwitchingProtocols, "", "extension"},
		{"bad deflate parameters", true, func(r *http.Request) []byte {
			return response101(r, "Sec-WebSocket-Extensions: permessage-deflate; bogus=1")
		}, http.StatusSwitchingProtocols, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr, res := startDialScript(t, true, tc.respond)
			d := &Dialer{HandshakeTimeout: dialTestTimeout, EnableCompression: tc.compress}
			c, resp, err := d.Dial("ws://"+addr, nil)
			assert.Nil(t, c)
			assert.True(t, err == ErrBadHandshake, "err = %v, want the ErrBadHandshake value", err)
			assert.ErrorIs(t, err, ErrBadHandshake)
			require.NotNil(t, resp)
			assert.Equal(t, tc.status, resp.StatusCode)
			body, rerr := io.ReadAll(resp.Body)
			require.NoError(t, rerr)
			assert.Equal(t, tc.body, string(body))
			reason := BadHandshakeReason(resp)
			require.Error(t, reason)
			assert.ErrorIs(t, reason, ErrBadHandshake)
			assert.Contains(t, reason.Error(), tc.reasonMatch)
			r := awaitScript(t, res)
			require.NoError(t, r.err)
			assert.True(t, r.eof, "client did not close the connection")
		})
	}
}

// TestCompatBadHandshakeReasonOther: BadHandshakeReason is nil when there
// is nothing to explain.
func TestCompatBadHandshakeReasonOther(t *testing.T) {
	srv := dialEchoServer(t, &Upgrader{}, false)
	c, resp, err := (&Dialer{HandshakeTimeout: dialTestTimeout}).Dial("ws://"+srv.Listener.Addr().String(), nil)
	require.NoError(t, err)
	defer c.Close()
	cases := []struct {
		name string
		resp *http.Response
	}{
		{"nil response", nil},
		{"successful dial", resp},
		{"body replaced", &http.Response{Body: io.NopCloser(strings.NewReader("x"))}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.NoError(t, BadHandshakeReason(tc.resp))
		})
	}
}

// TestCompatNegativeHandshakeTimeout: a negative HandshakeTimeout is an
// expired bound, as in gorilla: the dial fails at once with a timeout and
// never reaches the network.
func TestCompatNegativeHandshakeTimeout(t *testing.T) {
	cases := []struct {
		name    string
		timeout time.Duration
	}{
		{"minus one nanosecond", -1},
		{"minus one hour", -time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dialed := false
			d := &Dialer{
				HandshakeTimeout: tc.timeout,
				NetDialContext: func(context.Context, string, string) (net.Conn, error) {
					dialed = true
					return nil, errors.New("must not dial")
				},
			}
			c, resp, err := d.Dial("ws://127.0.0.1:1/", nil)
			assert.Nil(t, c)
			assert.Nil(t, resp)
			require.Error(t, err)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			var ne net.Error
			require.ErrorAs(t, err, &ne)
			assert.True(t, ne.Timeout())
			assert.False(t, dialed)
		})
	}
}
