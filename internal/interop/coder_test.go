package interop

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"

	coder "github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wsup/websocket"
)

// opCtx returns a context bounded by ioTimeout for one client operation.
func opCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	t.Cleanup(cancel)
	return ctx
}

// dialCoder connects a coder client to url with opts (nil for defaults),
// sets its read limit, and closes it at the end of the test.
func dialCoder(t *testing.T, url string, opts *coder.DialOptions) (*coder.Conn, *http.Response) {
	t.Helper()
	c, resp, err := coder.Dial(opCtx(t), url, opts)
	require.NoError(t, err, "coder dial %s", url)
	t.Cleanup(func() { _ = c.CloseNow() })
	c.SetReadLimit(clientReadLimit)
	return c, resp
}

// coderType converts a wsup message type to coder's.
func coderType(typ int) coder.MessageType {
	if typ == websocket.BinaryMessage {
		return coder.MessageBinary
	}
	return coder.MessageText
}

// coderCloseClean closes with 1000 (coder waits for the server's answering
// close frame) and checks that the server's read ended with that close.
func coderCloseClean(t *testing.T, c *coder.Conn, ends <-chan error) {
	t.Helper()
	assert.NoError(t, c.Close(coder.StatusNormalClosure, ""), "coder close handshake")
	if ends != nil {
		serverErr := recv(t, ends, "server session end")
		assert.Truef(t, websocket.IsCloseError(serverErr, websocket.CloseNormalClosure), "server read: want close 1000, got %v", serverErr)
	}
}

// coderReader reads messages in the background (coder handles control
// frames only while a read is in progress) and delivers them on a channel.
type coderMsg struct {
	typ  coder.MessageType
	data []byte
	err  error
}

func coderReader(ctx context.Context, c *coder.Conn) <-chan coderMsg {
	msgs := make(chan coderMsg, 1)
	go func() {
		defer close(msgs)
		for {
			typ, data, err := c.Read(ctx)
			msgs <- coderMsg{typ: typ, data: data, err: err}
			if err != nil {
				return
			}
		}
	}()
	return msgs
}

func TestCoderEcho(t *testing.T) {
	for _, mode := range []echoMode{echoWhole, echoStream} {
		t.Run(mode.String(), func(t *testing.T) {
			for _, tc := range echoCases() {
				t.Run(tc.name, func(t *testing.T) {
					ts, ends := echoServer(t, &websocket.Upgrader{}, mode)
					c, _ := dialCoder(t, ts.wsURL, nil)
					written := make(chan error, 1)
					writeCtx := opCtx(t)
					go func() { written <- c.Write(writeCtx, coderType(tc.typ), tc.data) }()
					typ, got, err := c.Read(opCtx(t))
					require.NoError(t, recv(t, written, "client write"))
					require.NoError(t, err)
					assert.Equal(t, coderType(tc.typ), typ)
					assertSamePayload(t, tc.data, got)
					coderCloseClean(t, c, ends)
				})
			}
		})
	}
}

// TestCoderFragmented sends messages through coder's Writer, which sends one
// frame per Write call, and checks that the server reassembles them.
func TestCoderFragmented(t *testing.T) {
	for _, mode := range []echoMode{echoWhole, echoStream} {
		t.Run(mode.String(), func(t *testing.T) {
			for _, tc := range fragmentCases() {
				t.Run(tc.name, func(t *testing.T) {
					ts, ends := echoServer(t, &websocket.Upgrader{}, mode)
					c, _ := dialCoder(t, ts.wsURL, nil)
					written := make(chan error, 1)
					writeCtx := opCtx(t)
					go func() {
						w, err := c.Writer(writeCtx, coderType(tc.typ))
						if err != nil {
							written <- err
							return
						}
						written <- writeChunks(w, tc.data, tc.chunks)
					}()
					typ, got, err := c.Read(opCtx(t))
					require.NoError(t, recv(t, written, "client write"))
					require.NoError(t, err)
					assert.Equal(t, coderType(tc.typ), typ)
					assertSamePayload(t, tc.data, got)
					coderCloseClean(t, c, ends)
				})
			}
		})
	}
}

// TestCoderClientPing checks that coder's Ping, which waits for a pong with
// its own payload, returns: the server answered with the same payload.
func TestCoderClientPing(t *testing.T) {
	ts, ends := echoServer(t, &websocket.Upgrader{}, echoWhole)
	var pongs []string
	c, _ := dialCoder(t, ts.wsURL, &coder.DialOptions{
		OnPongReceived: func(_ context.Context, payload []byte) { pongs = append(pongs, string(payload)) },
	})
	ctx, cancel := context.WithCancel(opCtx(t))
	defer cancel()
	msgs := coderReader(ctx, c)
	const pings = 3
	for i := 0; i < pings; i++ {
		require.NoError(t, c.Ping(opCtx(t)), "ping %d", i)
	}
	// The echo of a message sent after the pings orders the reads: the
	// pong handler's slice is complete once it arrives.
	require.NoError(t, c.Write(opCtx(t), coder.MessageText, []byte("after pings")))
	m := recv(t, msgs, "echo")
	require.NoError(t, m.err)
	assert.Equal(t, "after pings", string(m.data))
	assert.Equal(t, []string{"1", "2", "3"}, pongs, "pong payloads (coder pings with a counter)")
	require.NoError(t, c.Close(coder.StatusNormalClosure, ""))
	serverErr := recv(t, ends, "server session end")
	assert.Truef(t, websocket.IsCloseError(serverErr, websocket.CloseNormalClosure), "server read: want close 1000, got %v", serverErr)
}

// TestCoderServerPing checks that coder answers the server's ping with the
// same payload.
func TestCoderServerPing(t *testing.T) {
	for _, tc := range pingPayloads {
		t.Run(tc.name, func(t *testing.T) {
			handler, pongs := serverPingHandler(tc.data)
			ts := newTestServer(t, &websocket.Upgrader{}, handler)
			pings := make(chan string, 4)
			c, _ := dialCoder(t, ts.wsURL, &coder.DialOptions{
				OnPingReceived: func(_ context.Context, payload []byte) bool {
					pings <- string(payload)
					return true
				},
			})
			typ, got, err := c.Read(opCtx(t))
			require.NoError(t, err)
			assert.Equal(t, coder.MessageText, typ)
			assert.Equal(t, "pong:"+string(tc.data), string(got))
			assert.Equal(t, string(tc.data), recv(t, pings, "client ping"))
			assert.Equal(t, string(tc.data), recv(t, pongs, "server pong"))
			coderCloseClean(t, c, nil)
		})
	}
}

// TestCoderClientClose checks that the server's read reports coder's close
// code and reason, and that the closing handshake completes.
func TestCoderClientClose(t *testing.T) {
	for _, tc := range clientCloseCases {
		t.Run(tc.name, func(t *testing.T) {
			ts, ends := echoServer(t, &websocket.Upgrader{}, echoWhole)
			c, _ := dialCoder(t, ts.wsURL, nil)
			assert.NoError(t, c.Close(coder.StatusCode(tc.code), tc.reason), "coder close handshake")
			serverErr := recv(t, ends, "server session end")
			assert.Truef(t, websocket.IsCloseError(serverErr, tc.code), "server read: want close %d, got %v", tc.code, serverErr)
			ce := closeErr(t, serverErr)
			assert.Equal(t, tc.code, ce.Code)
			assert.Equal(t, tc.reason, ce.Text)
		})
	}
}

func TestCoderServerClose(t *testing.T) {
	for _, sc := range serverCloseCases {
		t.Run(sc.name, func(t *testing.T) {
			handler, results := serverCloseHandler(sc)
			ts := newTestServer(t, &websocket.Upgrader{}, handler)
			c, _ := dialCoder(t, ts.wsURL, nil)
			_, _, err := c.Read(opCtx(t))
			var ce coder.CloseError
			require.True(t, errors.As(err, &ce), "want a coder.CloseError, got %v", err)
			assert.Equal(t, coder.StatusCode(sc.wantCode), ce.Code)
			assert.Equal(t, sc.wantReason, ce.Reason)
			checkServerCloseResult(t, sc, recv(t, results, "server close result"))
		})
	}
}

// TestCoderHandshakeOrigin checks that a cross-origin coder client is
// refused with 403 by the default origin check.
func TestCoderHandshakeOrigin(t *testing.T) {
	cases := []struct {
		name       string
		origin     func(host string) string
		wantStatus int
	}{
		{name: "same origin", origin: func(h string) string { return "http://" + h }, wantStatus: http.StatusSwitchingProtocols},
		{name: "other host", origin: func(string) string { return "https://evil.example" }, wantStatus: http.StatusForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts, _ := echoServer(t, &websocket.Upgrader{}, echoWhole)
			c, resp, err := coder.Dial(opCtx(t), ts.wsURL, &coder.DialOptions{
				HTTPHeader: http.Header{"Origin": {tc.origin(ts.host)}},
			})
			require.NotNil(t, resp, "dial error: %v", err)
			assert.Equal(t, tc.wantStatus, resp.StatusCode)
			if tc.wantStatus == http.StatusSwitchingProtocols {
				require.NoError(t, err)
				_ = c.Close(coder.StatusNormalClosure, "")
				return
			}
			assert.Error(t, err)
			var he websocket.HandshakeError
			require.ErrorAs(t, recv(t, ts.upgradeErrs, "server Upgrade error"), &he)
			assert.ErrorIs(t, he, websocket.ErrOriginDenied)
		})
	}
}

// TestHTTPClientRejected checks refusals of requests that are not WebSocket
// handshakes, made with net/http's client.
func TestHTTPClientRejected(t *testing.T) {
	cases := []struct {
		name       string
		method     string
		header     http.Header
		wantStatus int
		wantHeader map[string]string
	}{
		{name: "plain GET", method: http.MethodGet, wantStatus: http.StatusUpgradeRequired,
			wantHeader: map[string]string{"Upgrade": "websocket"}},
		{name: "POST", method: http.MethodPost, wantStatus: http.StatusMethodNotAllowed,
			wantHeader: map[string]string{"Allow": "GET"}},
		{name: "version 8", method: http.MethodGet, wantStatus: http.StatusUpgradeRequired,
			header: http.Header{"Upgrade": {"websocket"}, "Connection": {"Upgrade"},
				"Sec-Websocket-Version": {"8"}, "Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}},
			wantHeader: map[string]string{"Sec-WebSocket-Version": "13"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts, _ := echoServer(t, &websocket.Upgrader{}, echoWhole)
			req, err := http.NewRequestWithContext(opCtx(t), tc.method, "http://"+ts.host+"/", nil)
			require.NoError(t, err)
			for k, vs := range tc.header {
				req.Header[k] = vs
			}
			client := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{}).DialContext}}
			resp, err := client.Do(req)
			require.NoError(t, err)
			_ = resp.Body.Close()
			assert.Equal(t, tc.wantStatus, resp.StatusCode)
			for k, v := range tc.wantHeader {
				assert.Equal(t, v, resp.Header.Get(k), "response header %s", k)
			}
			var he websocket.HandshakeError
			require.ErrorAs(t, recv(t, ts.upgradeErrs, "server Upgrade error"), &he)
			assert.Equal(t, tc.wantStatus, he.Status)
		})
	}
}

func TestCoderSubprotocol(t *testing.T) {
	for _, tc := range subprotocolCases {
		t.Run(tc.name, func(t *testing.T) {
			handler, got := subprotocolHandler()
			ts := newTestServer(t, &websocket.Upgrader{Subprotocols: tc.server}, handler)
			c, _ := dialCoder(t, ts.wsURL, &coder.DialOptions{Subprotocols: tc.client})
			assert.Equal(t, tc.want, c.Subprotocol(), "client side")
			assert.Equal(t, tc.want, recv(t, got, "server subprotocol"), "server side")
			coderCloseClean(t, c, nil)
		})
	}
}

func TestCoderConcurrentServerWrites(t *testing.T) {
	for _, opts := range concurrentCases {
		t.Run(opts.name, func(t *testing.T) {
			handler, results := concurrentWriteHandler(opts)
			ts := newTestServer(t, &websocket.Upgrader{WriteBufferSize: 512}, handler)
			c, _ := dialCoder(t, ts.wsURL, nil)
			var cc concurrentChecker
			for i := 0; i < concurrentWriters*concurrentPerWriter; i++ {
				typ, data, err := c.Read(opCtx(t))
				require.NoError(t, err, "message %d", i)
				wsTyp := websocket.TextMessage
				if typ == coder.MessageBinary {
					wsTyp = websocket.BinaryMessage
				}
				cc.check(t, wsTyp, data)
			}
			cc.complete(t)
			assert.NoError(t, c.Close(coder.StatusNormalClosure, ""))
			serverErr := recv(t, results, "server result")
			assert.Truef(t, websocket.IsCloseError(serverErr, websocket.CloseNormalClosure), "server: want close 1000 after all writes, got %v", serverErr)
		})
	}
}
