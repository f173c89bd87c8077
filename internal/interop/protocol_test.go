package interop

import (
	"io"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wsup/websocket"
)

// limitedEchoServer echoes with ReadMessage/WriteMessage under the given
// read limit and reports the error that ended each session.
func limitedEchoServer(t *testing.T, limit int64) (*testServer, <-chan error) {
	t.Helper()
	ends := make(chan error, 4)
	ts := newTestServer(t, &websocket.Upgrader{}, func(c *websocket.Conn) {
		c.SetReadLimit(limit)
		for {
			mt, p, err := c.ReadMessage()
			if err != nil {
				ends <- err
				return
			}
			if err := c.WriteMessage(mt, p); err != nil {
				ends <- err
				return
			}
		}
	})
	return ts, ends
}

// TestGorillaPeerErrors has a gorilla client break the rules and checks
// the close code the server answers with (as gorilla reports it) and the
// error the server's read returns.
func TestGorillaPeerErrors(t *testing.T) {
	cases := []struct {
		name       string
		send       func(c *gorilla.Conn) error
		wantCode   int
		wantServer error
	}{
		{
			name:       "message over the read limit",
			send:       func(c *gorilla.Conn) error { return c.WriteMessage(gorilla.BinaryMessage, binaryPayload(2048, 1)) },
			wantCode:   websocket.CloseMessageTooBig,
			wantServer: websocket.ErrReadLimit,
		},
		{
			name: "fragmented message over the read limit",
			send: func(c *gorilla.Conn) error {
				w, err := c.NextWriter(gorilla.BinaryMessage)
				if err != nil {
					return err
				}
				return writeChunks(w, binaryPayload(4096, 2), 100)
			},
			wantCode:   websocket.CloseMessageTooBig,
			wantServer: websocket.ErrReadLimit,
		},
		{
			name:       "invalid UTF-8 text",
			send:       func(c *gorilla.Conn) error { return c.WriteMessage(gorilla.TextMessage, []byte("ok \xff\xfe")) },
			wantCode:   websocket.CloseInvalidFramePayloadData,
			wantServer: websocket.ErrInvalidUTF8,
		},
		{
			name: "invalid UTF-8 across fragments",
			send: func(c *gorilla.Conn) error {
				w, err := c.NextWriter(gorilla.TextMessage)
				if err != nil {
					return err
				}
				// 0xC3 starts a two-byte character; '(' cannot continue it.
				return writeChunks(w, []byte("abc\xc3(def"), 4)
			},
			wantCode:   websocket.CloseInvalidFramePayloadData,
			wantServer: websocket.ErrInvalidUTF8,
		},
		{
			name: "text ending inside a character",
			send: func(c *gorilla.Conn) error {
				return c.WriteMessage(gorilla.TextMessage, []byte("abc\xe6\x97"))
			},
			wantCode:   websocket.CloseInvalidFramePayloadData,
			wantServer: websocket.ErrInvalidUTF8,
		},
		{
			name: "close code 999",
			send: func(c *gorilla.Conn) error {
				return c.WriteControl(gorilla.CloseMessage, []byte{0x03, 0xe7}, time.Now().Add(ioTimeout))
			},
			wantCode:   websocket.CloseProtocolError,
			wantServer: websocket.ErrProtocol,
		},
		{
			name: "close code 1005 on the wire",
			send: func(c *gorilla.Conn) error {
				return c.WriteControl(gorilla.CloseMessage, []byte{0x03, 0xed}, time.Now().Add(ioTimeout))
			},
			wantCode:   websocket.CloseProtocolError,
			wantServer: websocket.ErrProtocol,
		},
		{
			name: "one-byte close payload",
			send: func(c *gorilla.Conn) error {
				return c.WriteControl(gorilla.CloseMessage, []byte{0x03}, time.Now().Add(ioTimeout))
			},
			wantCode:   websocket.CloseProtocolError,
			wantServer: websocket.ErrProtocol,
		},
		{
			name: "close reason invalid UTF-8",
			send: func(c *gorilla.Conn) error {
				return c.WriteControl(gorilla.CloseMessage, []byte{0x03, 0xe8, 'x', 0xff}, time.Now().Add(ioTimeout))
			},
			wantCode:   websocket.CloseInvalidFramePayloadData,
			wantServer: websocket.ErrInvalidUTF8,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts, ends := limitedEchoServer(t, 1024)
			c := dialGorilla(t, nil, ts.wsURL, nil)
			require.NoError(t, c.SetWriteDeadline(time.Now().Add(ioTimeout)))
			require.NoError(t, tc.send(c))
			_, _, err := gorillaRead(t, c)
			var ce *gorilla.CloseError
			if assert.ErrorAs(t, err, &ce, "client read") {
				assert.Equal(t, tc.wantCode, ce.Code, "close code the server sent")
			}
			serverErr := recv(t, ends, "server session end")
			assert.ErrorIs(t, serverErr, tc.wantServer, "server read error")
		})
	}
}

// TestGorillaPingInsideFragmentedMessage sends a ping between the frames
// of a fragmented message: the server must answer it and still reassemble
// the message.
func TestGorillaPingInsideFragmentedMessage(t *testing.T) {
	ts, ends := echoServer(t, &websocket.Upgrader{}, echoWhole)
	c := dialGorilla(t, &gorilla.Dialer{WriteBufferSize: 256}, ts.wsURL, nil)
	var pongs []string
	c.SetPongHandler(func(appData string) error {
		pongs = append(pongs, appData)
		return nil
	})
	data := utf8Payload(2000)
	w, err := c.NextWriter(gorilla.TextMessage)
	require.NoError(t, err)
	_, err = w.Write(data[:1000]) // flushes several frames
	require.NoError(t, err)
	require.NoError(t, c.WriteControl(gorilla.PingMessage, []byte("mid-message"), time.Now().Add(ioTimeout)))
	require.NoError(t, writeChunks(w, data[1000:], 300))
	typ, got, err := gorillaRead(t, c)
	require.NoError(t, err)
	assert.Equal(t, gorilla.TextMessage, typ)
	assertSamePayload(t, data, got)
	assert.Equal(t, []string{"mid-message"}, pongs)
	gorillaCloseClean(t, c, ends)
}

// TestGorillaAbruptDisconnect drops the TCP connection without a close
// frame: the server's read must end with an abnormal-closure error (a
// *CloseError with 1006 wherever the cut falls, as gorilla reports it,
// which also matches io.ErrUnexpectedEOF), and its handler must return
// (the test's cleanup waits for it).
func TestGorillaAbruptDisconnect(t *testing.T) {
	cases := []struct {
		name string
		cut  func(c *gorilla.Conn) error
	}{
		{name: "before any frame", cut: func(*gorilla.Conn) error { return nil }},
		{name: "between fragments", cut: func(c *gorilla.Conn) error {
			// Binary frame without FIN, masked, empty payload.
			_, err := c.NetConn().Write([]byte{0x02, 0x80, 1, 2, 3, 4})
			return err
		}},
		{name: "inside a frame header", cut: func(c *gorilla.Conn) error {
			_, err := c.NetConn().Write([]byte{0x82})
			return err
		}},
		{name: "inside a payload", cut: func(c *gorilla.Conn) error {
			// FIN+binary, masked, length 100, key, then 10 payload bytes.
			_, err := c.NetConn().Write(append([]byte{0x82, 0x80 | 100, 1, 2, 3, 4}, make([]byte, 10)...))
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts, ends := echoServer(t, &websocket.Upgrader{}, echoWhole)
			c := dialGorilla(t, nil, ts.wsURL, nil)
			require.NoError(t, tc.cut(c))
			require.NoError(t, c.NetConn().Close())
			serverErr := recv(t, ends, "server session end")
			assert.Truef(t, websocket.IsCloseError(serverErr, websocket.CloseAbnormalClosure), "want close 1006, got %v", serverErr)
			assert.ErrorIs(t, serverErr, io.ErrUnexpectedEOF)
		})
	}
}
