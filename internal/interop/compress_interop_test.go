// Permessage-deflate (RFC 7692) interop tests: gorilla's, coder's and
// Node ws's clients against our server with compression on.

package interop

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wsup/websocket"
)

// compressEchoServer starts an echo server with EnableCompression whose
// connections compress what they write.
func compressEchoServer(t *testing.T, mode echoMode) (*testServer, <-chan error) {
	t.Helper()
	ends := make(chan error, 16)
	ts := newTestServer(t, &websocket.Upgrader{EnableCompression: true}, func(c *websocket.Conn) {
		c.EnableWriteCompression(true)
		err := echo(c, mode)
		select {
		case ends <- err:
		default:
		}
	})
	return ts, ends
}

// assertDeflateNegotiated checks the handshake response's
// Sec-WebSocket-Extensions and returns its value.
func assertDeflateNegotiated(t *testing.T, resp *http.Response) string {
	t.Helper()
	require.NotNil(t, resp)
	ext := strings.Join(resp.Header.Values("Sec-WebSocket-Extensions"), ", ")
	assert.Contains(t, ext, "permessage-deflate", "Sec-WebSocket-Extensions of the 101 response")
	return ext
}

// compressibleText is a 1 MiB text message that deflate shrinks to a small
// fraction of its size.
func compressibleText() []byte { return asciiPayload(1 << 20) }

// countingDial returns a dial function that wraps every connection in a
// countingConn and stores it in *out.
func countingDial(out **countingConn) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		cc := &countingConn{Conn: nc}
		*out = cc
		return cc, nil
	}
}

// TestGorillaDeflateEcho echoes every echo case over a compressed
// connection (gorilla offers and requires no context takeover).
func TestGorillaDeflateEcho(t *testing.T) {
	for _, mode := range []echoMode{echoWhole, echoStream} {
		t.Run(mode.String(), func(t *testing.T) {
			for _, tc := range echoCases() {
				t.Run(tc.name, func(t *testing.T) {
					ts, ends := compressEchoServer(t, mode)
					d := gorilla.Dialer{EnableCompression: true, HandshakeTimeout: ioTimeout}
					c, resp, err := d.Dial(ts.wsURL, nil)
					require.NoError(t, err, "gorilla dial with compression")
					t.Cleanup(func() { _ = c.Close() })
					ext := assertDeflateNegotiated(t, resp)
					assert.Contains(t, ext, "server_no_context_takeover", "gorilla requires it in the response")
					assert.Contains(t, ext, "client_no_context_takeover", "gorilla requires it in the response")
					c.SetReadLimit(clientReadLimit)
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

// TestGorillaDeflateOnTheWire checks that compression really happens in
// both directions: the client's compressed 1 MiB text is decompressed by
// the server (the echo matches), and the server's echo is compressed (the
// client reads far fewer bytes than the message holds).
func TestGorillaDeflateOnTheWire(t *testing.T) {
	ts, ends := compressEchoServer(t, echoWhole)
	var cc *countingConn
	d := &gorilla.Dialer{EnableCompression: true, NetDialContext: countingDial(&cc)}
	c := dialGorilla(t, d, ts.wsURL, nil)
	require.NotNil(t, cc)
	msg := compressibleText()
	readBefore := cc.read.Load()
	require.NoError(t, c.WriteMessage(gorilla.TextMessage, msg))
	typ, got, err := gorillaRead(t, c)
	require.NoError(t, err)
	assert.Equal(t, gorilla.TextMessage, typ)
	assertSamePayload(t, msg, got)
	assert.Less(t, cc.read.Load()-readBefore, int64(len(msg)/4), "bytes the client read for a compressed 1 MiB echo")
	gorillaCloseClean(t, c, ends)
}

// TestGorillaDeflateFragmented sends compressed messages split over many
// frames (only the first carries RSV1).
func TestGorillaDeflateFragmented(t *testing.T) {
	for _, tc := range fragmentCases() {
		t.Run(tc.name, func(t *testing.T) {
			ts, ends := compressEchoServer(t, echoWhole)
			c := dialGorilla(t, &gorilla.Dialer{EnableCompression: true, WriteBufferSize: 256}, ts.wsURL, nil)
			w, err := c.NextWriter(tc.typ)
			require.NoError(t, err)
			require.NoError(t, writeChunks(w, tc.data, tc.chunks))
			typ, got, err := gorillaRead(t, c)
			require.NoError(t, err)
			assert.Equal(t, tc.typ, typ)
			assertSamePayload(t, tc.data, got)
			gorillaCloseClean(t, c, ends)
		})
	}
}

// TestCoderDeflate echoes a sequence of related messages on one
// connection in both of coder's compression modes; with context takeover
// later messages refer back to earlier ones.
func TestCoderDeflate(t *testing.T) {
	modes := []struct {
		name string
		mode coder.CompressionMode
	}{
		{"context takeover", coder.CompressionContextTakeover},
		{"no context takeover", coder.CompressionNoContextTakeover},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			for _, echoM := range []echoMode{echoWhole, echoStream} {
				t.Run(echoM.String(), func(t *testing.T) {
					ts, ends := compressEchoServer(t, echoM)
					var cc *countingConn
					client := &http.Client{Transport: &http.Transport{DialContext: countingDial(&cc)}}
					c, resp := dialCoder(t, ts.wsURL, &coder.DialOptions{CompressionMode: m.mode, HTTPClient: client})
					ext := assertDeflateNegotiated(t, resp)
					if m.mode == coder.CompressionNoContextTakeover {
						// coder offers server_no_context_takeover in this
						// mode; RFC 7692 section 7.1.1.1 makes the server
						// confirm it.
						assert.Contains(t, ext, "server_no_context_takeover")
					}
					require.NotNil(t, cc)
					for _, tc := range echoCases() {
						written := make(chan error, 1)
						writeCtx := opCtx(t)
						go func() { written <- c.Write(writeCtx, coderType(tc.typ), tc.data) }()
						typ, got, err := c.Read(opCtx(t))
						require.NoError(t, recv(t, written, "client write"), tc.name)
						require.NoError(t, err, tc.name)
						assert.Equal(t, coderType(tc.typ), typ, tc.name)
						assertSamePayload(t, tc.data, got)
					}
					msg := compressibleText()
					readBefore := cc.read.Load()
					require.NoError(t, c.Write(opCtx(t), coder.MessageText, msg))
					_, got, err := c.Read(opCtx(t))
					require.NoError(t, err)
					assertSamePayload(t, msg, got)
					assert.Less(t, cc.read.Load()-readBefore, int64(len(msg)/4), "bytes the client read for a compressed 1 MiB echo")
					coderCloseClean(t, c, ends)
				})
			}
		})
	}
}

// TestNodeClientDeflate runs client.mjs with perMessageDeflate.
func TestNodeClientDeflate(t *testing.T) {
	node := requireNode(t)
	for _, mode := range []echoMode{echoWhole, echoStream} {
		t.Run(mode.String(), func(t *testing.T) {
			ts, ends := compressEchoServer(t, mode)
			steps := runNodeClient(t, node, ts.wsURL, "--deflate")
			byName := checkNodeSteps(t, steps)
			assert.Contains(t, byName["open"].Extensions, "permessage-deflate", "extensions negotiated with ws")
			// About a third of the echoed bytes are random binary that
			// deflate cannot shrink; the text is very compressible.
			assert.Less(t, byName["stats"].BytesRead, nodeEchoedBytes()*6/10, "bytes the client read: the server's echoes must be compressed")

			serverErr := recv(t, ends, "server session end")
			ce := closeErr(t, serverErr)
			assert.Equal(t, 4002, ce.Code)
			assert.Equal(t, nodeCloseReason, ce.Text)
		})
	}
}
