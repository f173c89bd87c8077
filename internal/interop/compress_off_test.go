package interop

import (
	"testing"
	"time"

	coder "github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wsup/websocket"
)

// TestCompressionOfferDeclined checks that a server without
// EnableCompression declines the clients' permessage-deflate offers (no
// Sec-WebSocket-Extensions in the 101 response) and that the uncompressed
// connection then works with both clients.
func TestCompressionOfferDeclined(t *testing.T) {
	msg := asciiPayload(100000)
	cases := []struct {
		name string
		run  func(t *testing.T, url string, ends <-chan error)
	}{
		{name: "gorilla", run: func(t *testing.T, url string, ends <-chan error) {
			d := gorilla.Dialer{EnableCompression: true, HandshakeTimeout: ioTimeout}
			c, resp, err := d.Dial(url, nil)
			require.NoError(t, err)
			t.Cleanup(func() { _ = c.Close() })
			assert.Empty(t, resp.Header.Values("Sec-WebSocket-Extensions"))
			require.NoError(t, c.SetWriteDeadline(time.Now().Add(ioTimeout)))
			require.NoError(t, c.WriteMessage(gorilla.TextMessage, msg))
			_, got, err := gorillaRead(t, c)
			require.NoError(t, err)
			assertSamePayload(t, msg, got)
			gorillaCloseClean(t, c, ends)
		}},
		{name: "coder", run: func(t *testing.T, url string, ends <-chan error) {
			c, resp := dialCoder(t, url, &coder.DialOptions{CompressionMode: coder.CompressionContextTakeover})
			assert.Empty(t, resp.Header.Values("Sec-WebSocket-Extensions"))
			require.NoError(t, c.Write(opCtx(t), coder.MessageText, msg))
			_, got, err := c.Read(opCtx(t))
			require.NoError(t, err)
			assertSamePayload(t, msg, got)
			coderCloseClean(t, c, ends)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts, ends := echoServer(t, &websocket.Upgrader{EnableCompression: false}, echoWhole)
			tc.run(t, ts.wsURL, ends)
		})
	}
}
