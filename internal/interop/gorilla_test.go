package interop

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wsup/websocket"
)

// dialGorilla connects a gorilla client to url (with d's options, or the
// defaults when d is nil) and closes it at the end of the test.
func dialGorilla(t *testing.T, d *gorilla.Dialer, url string, hdr http.Header) *gorilla.Conn {
	t.Helper()
	var dd gorilla.Dialer
	if d != nil {
		dd = *d
	}
	dd.HandshakeTimeout = ioTimeout
	c, resp, err := dd.Dial(url, hdr)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	require.NoError(t, err, "gorilla dial %s", url)
	t.Cleanup(func() { _ = c.Close() })
	c.SetReadLimit(clientReadLimit)
	return c
}

// gorillaRead reads one message with a deadline.
func gorillaRead(t *testing.T, c *gorilla.Conn) (int, []byte, error) {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(ioTimeout)))
	return c.ReadMessage()
}

// gorillaCloseClean sends a 1000 close frame, checks that the server
// answers with a close frame, and that the server's read ended with the
// client's close.
func gorillaCloseClean(t *testing.T, c *gorilla.Conn, ends <-chan error) {
	t.Helper()
	require.NoError(t, c.WriteControl(gorilla.CloseMessage, gorilla.FormatCloseMessage(gorilla.CloseNormalClosure, ""), time.Now().Add(ioTimeout)))
	_, _, err := gorillaRead(t, c)
	assert.Truef(t, gorilla.IsCloseError(err, gorilla.CloseNormalClosure), "client read after close: want close 1000, got %v", err)
	if ends != nil {
		serverErr := recv(t, ends, "server session end")
		assert.Truef(t, websocket.IsCloseError(serverErr, websocket.CloseNormalClosure), "server read: want close 1000, got %v", serverErr)
	}
}

func TestGorillaEcho(t *testing.T) {
	for _, mode := range []echoMode{echoWhole, echoStream} {
		t.Run(mode.String(), func(t *testing.T) {
			for _, tc := range echoCases() {
				t.Run(tc.name, func(t *testing.T) {
					ts, ends := echoServer(t, &websocket.Upgrader{}, mode)
					c := dialGorilla(t, nil, ts.wsURL, nil)
					// The streaming echo answers while the message is still
					// arriving, so the client must read while it writes.
					written := make(chan error, 1)
					go func() {
						if err := c.SetWriteDeadline(time.Now().Add(ioTimeout)); err != nil {
							written <- err
							return
						}
						written <- c.WriteMessage(tc.typ, tc.data)
					}()
					typ, got, err := gorillaRead(t, c)
					require.NoError(t, recv(t, written, "client write"))
					require.NoError(t, err)
					assert.Equal(t, tc.typ, typ)
					assertSamePayload(t, tc.data, got)
					gorillaCloseClean(t, c, ends)
				})
			}
		})
	}
}

// TestGorillaFragmented sends messages with NextWriter and a 256-byte write
// buffer, so gorilla splits them into many frames, and checks that the
// server reassembles each (the echo comes back whole and equal).
func TestGorillaFragmented(t *testing.T) {
	for _, mode := range []echoMode{echoWhole, echoStream} {
		t.Run(mode.String(), func(t *testing.T) {
			for _, tc := range fragmentCases() {
				t.Run(tc.name, func(t *testing.T) {
					ts, ends := echoServer(t, &websocket.Upgrader{}, mode)
					var cc *countingConn
					d := &gorilla.Dialer{
						WriteBufferSize: 256,
						NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
							nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
							if err != nil {
								return nil, err
							}
							cc = &countingConn{Conn: nc}
							return cc, nil
						},
					}
					c := dialGorilla(t, d, ts.wsURL, nil)
					require.NotNil(t, cc)
					require.NoError(t, c.SetWriteDeadline(time.Now().Add(ioTimeout)))
					before := cc.writes.Load()
					w, err := c.NextWriter(tc.typ)
					require.NoError(t, err)
					require.NoError(t, writeChunks(w, tc.data, tc.chunks))
					frames := cc.writes.Load() - before
					require.GreaterOrEqualf(t, frames, int64(len(tc.data)/256),
						"precondition: gorilla should have sent the %d-byte message in many frames", len(tc.data))
					typ, got, err := gorillaRead(t, c)
					require.NoError(t, err)
					assert.Equal(t, tc.typ, typ)
					assertSamePayload(t, tc.data, got)
					gorillaCloseClean(t, c, ends)
				})
			}
		})
	}
}

// TestGorillaClientPing checks that the server answers a client ping with a
// pong carrying the same payload, before it echoes the next message.
func TestGorillaClientPing(t *testing.T) {
	for _, tc := range pingPayloads {
		t.Run(tc.name, func(t *testing.T) {
			ts, ends := echoServer(t, &websocket.Upgrader{}, echoWhole)
			c := dialGorilla(t, nil, ts.wsURL, nil)
			var pongs []string
			c.SetPongHandler(func(appData string) error {
				pongs = append(pongs, appData)
				return nil
			})
			require.NoError(t, c.WriteControl(gorilla.PingMessage, tc.data, time.Now().Add(ioTimeout)))
			require.NoError(t, c.WriteMessage(gorilla.TextMessage, []byte("after ping")))
			typ, got, err := gorillaRead(t, c)
			require.NoError(t, err)
			assert.Equal(t, gorilla.TextMessage, typ)
			assert.Equal(t, "after ping", string(got))
			assert.Equal(t, []string{string(tc.data)}, pongs, "pongs received before the echo")
			gorillaCloseClean(t, c, ends)
		})
	}
}

// TestGorillaServerPing checks that a ping the server sends is answered by
// the client with the same payload and reaches the server's pong handler.
func TestGorillaServerPing(t *testing.T) {
	for _, tc := range pingPayloads {
		t.Run(tc.name, func(t *testing.T) {
			handler, pongs := serverPingHandler(tc.data)
			ts := newTestServer(t, &websocket.Upgrader{}, handler)
			c := dialGorilla(t, nil, ts.wsURL, nil)
			// gorilla answers pings inside ReadMessage.
			typ, got, err := gorillaRead(t, c)
			require.NoError(t, err)
			assert.Equal(t, gorilla.TextMessage, typ)
			assert.Equal(t, "pong:"+string(tc.data), string(got))
			assert.Equal(t, string(tc.data), recv(t, pongs, "server pong"))
			gorillaCloseClean(t, c, nil)
		})
	}
}

// TestGorillaClientClose checks that the server's read reports the client's
// close code and reason, and that the server answers with the same code.
func TestGorillaClientClose(t *testing.T) {
	for _, tc := range clientCloseCases {
		t.Run(tc.name, func(t *testing.T) {
			ts, ends := echoServer(t, &websocket.Upgrader{}, echoWhole)
			c := dialGorilla(t, nil, ts.wsURL, nil)
			require.NoError(t, c.WriteControl(gorilla.CloseMessage, gorilla.FormatCloseMessage(tc.code, tc.reason), time.Now().Add(ioTimeout)))
			serverErr := recv(t, ends, "server session end")
			assert.Truef(t, websocket.IsCloseError(serverErr, tc.code), "server read: want close %d, got %v", tc.code, serverErr)
			ce := closeErr(t, serverErr)
			assert.Equal(t, tc.code, ce.Code)
			assert.Equal(t, tc.reason, ce.Text)

			_, _, err := gorillaRead(t, c)
			assert.Truef(t, gorilla.IsCloseError(err, tc.code), "client: want the server to echo close %d, got %v", tc.code, err)
		})
	}
}

// TestGorillaServerClose checks the closes the server starts.
func TestGorillaServerClose(t *testing.T) {
	for _, sc := range serverCloseCases {
		t.Run(sc.name, func(t *testing.T) {
			handler, results := serverCloseHandler(sc)
			ts := newTestServer(t, &websocket.Upgrader{}, handler)
			c := dialGorilla(t, nil, ts.wsURL, nil)
			// gorilla's default close handler answers with the same code.
			_, _, err := gorillaRead(t, c)
			var ce *gorilla.CloseError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, sc.wantCode, ce.Code)
			assert.Equal(t, sc.wantReason, ce.Text)
			checkServerCloseResult(t, sc, recv(t, results, "server close result"))
		})
	}
}

// TestGorillaHandshakeOrigin checks the default same-origin check and a
// CheckOrigin that accepts everything, with gorilla's dialer.
func TestGorillaHandshakeOrigin(t *testing.T) {
	allowAll := func(*http.Request) bool { return true }
	cases := []struct {
		name        string
		checkOrigin func(*http.Request) bool
		origin      func(host string) string // "" sends no Origin
		wantStatus  int
	}{
		{name: "no origin", origin: func(string) string { return "" }, wantStatus: http.StatusSwitchingProtocols},
		{name: "same origin", origin: func(h string) string { return "http://" + h }, wantStatus: http.StatusSwitchingProtocols},
		{name: "same host other scheme", origin: func(h string) string { return "https://" + h }, wantStatus: http.StatusSwitchingProtocols},
		{name: "other host", origin: func(string) string { return "http://evil.example" }, wantStatus: http.StatusForbidden},
		{name: "other port", origin: func(string) string { return "http://127.0.0.1:1" }, wantStatus: http.StatusForbidden},
		{name: "null", origin: func(string) string { return "null" }, wantStatus: http.StatusForbidden},
		{name: "other host allowed by CheckOrigin", checkOrigin: allowAll, origin: func(string) string { return "http://evil.example" }, wantStatus: http.StatusSwitchingProtocols},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts, _ := echoServer(t, &websocket.Upgrader{CheckOrigin: tc.checkOrigin}, echoWhole)
			hdr := http.Header{}
			if o := tc.origin(ts.host); o != "" {
				hdr.Set("Origin", o)
			}
			d := gorilla.Dialer{HandshakeTimeout: ioTimeout}
			c, resp, err := d.Dial(ts.wsURL, hdr)
			require.NotNil(t, resp, "dial error: %v", err)
			_ = resp.Body.Close()
			assert.Equal(t, tc.wantStatus, resp.StatusCode)
			if tc.wantStatus == http.StatusSwitchingProtocols {
				require.NoError(t, err)
				_ = c.Close()
				return
			}
			assert.ErrorIs(t, err, gorilla.ErrBadHandshake)
			var he websocket.HandshakeError
			require.ErrorAs(t, recv(t, ts.upgradeErrs, "server Upgrade error"), &he)
			assert.Equal(t, tc.wantStatus, he.Status)
			assert.ErrorIs(t, he, websocket.ErrOriginDenied)
		})
	}
}

func TestGorillaSubprotocol(t *testing.T) {
	for _, tc := range subprotocolCases {
		t.Run(tc.name, func(t *testing.T) {
			handler, got := subprotocolHandler()
			ts := newTestServer(t, &websocket.Upgrader{Subprotocols: tc.server}, handler)
			c := dialGorilla(t, &gorilla.Dialer{Subprotocols: tc.client}, ts.wsURL, nil)
			assert.Equal(t, tc.want, c.Subprotocol(), "client side")
			assert.Equal(t, tc.want, recv(t, got, "server subprotocol"), "server side")
			gorillaCloseClean(t, c, nil)
		})
	}
}

// TestGorillaConcurrentServerWrites has 20 server goroutines write at once
// and checks that every message reaches the client whole and in order per
// writer.
func TestGorillaConcurrentServerWrites(t *testing.T) {
	for _, opts := range concurrentCases {
		t.Run(opts.name, func(t *testing.T) {
			handler, results := concurrentWriteHandler(opts)
			ts := newTestServer(t, &websocket.Upgrader{WriteBufferSize: 512}, handler)
			c := dialGorilla(t, nil, ts.wsURL, nil)
			var cc concurrentChecker
			for i := 0; i < concurrentWriters*concurrentPerWriter; i++ {
				typ, data, err := gorillaRead(t, c)
				require.NoError(t, err, "message %d", i)
				cc.check(t, typ, data)
			}
			cc.complete(t)
			require.NoError(t, c.WriteControl(gorilla.CloseMessage, gorilla.FormatCloseMessage(gorilla.CloseNormalClosure, ""), time.Now().Add(ioTimeout)))
			serverErr := recv(t, results, "server result")
			assert.Truef(t, websocket.IsCloseError(serverErr, websocket.CloseNormalClosure), "server: want close 1000 after all writes, got %v", serverErr)
		})
	}
}

// TestGorillaCloseErrorText: wsup's CloseError.Error gives gorilla's text
// for every code, named or not, with and without a reason.
func TestGorillaCloseErrorText(t *testing.T) {
	codes := []int{0, 999, 3000, 4000, 4999, 65535}
	for code := 1000; code <= 1016; code++ {
		codes = append(codes, code)
	}
	for _, code := range codes {
		for _, text := range []string{"", "reason"} {
			want := (&gorilla.CloseError{Code: code, Text: text}).Error()
			assert.Equal(t, want, (&websocket.CloseError{Code: code, Text: text}).Error())
		}
	}
}
