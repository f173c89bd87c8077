package websocket

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bodyResult is what the handler of bodyServer saw.
type bodyResult struct {
	err  error    // Upgrade's error
	msgs []string // messages read after a successful Upgrade
}

// bodyServer starts a server on 127.0.0.1 whose handler upgrades with a
// zero Upgrader and, on success, reads up to want messages (each within
// testIOTimeout) before closing the Conn.
func bodyServer(t *testing.T, want int) (addr string, results <-chan bodyResult) {
	t.Helper()
	ch := make(chan bodyResult, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := (&Upgrader{}).Upgrade(w, r, nil)
		res := bodyResult{err: err}
		if err == nil {
			for range want {
				if err := c.SetReadDeadline(time.Now().Add(testIOTimeout)); err != nil {
					break
				}
				_, p, err := c.ReadMessage()
				if err != nil {
					break
				}
				res.msgs = append(res.msgs, string(p))
			}
			_ = c.Close()
		}
		ch <- res
	}))
	t.Cleanup(srv.Close)
	require.True(t, strings.HasPrefix(srv.Listener.Addr().String(), "127.0.0.1:"))
	return srv.Listener.Addr().String(), ch
}

func waitBodyResult(t *testing.T, ch <-chan bodyResult) bodyResult {
	t.Helper()
	select {
	case res := <-ch:
		return res
	case <-time.After(testIOTimeout):
		t.Fatal("handler did not finish")
		return bodyResult{}
	}
}

// TestUpgradeRequestBody: a handshake request that announces a body is
// refused with 400 before the hijack, whatever the body holds; a GET with
// "Content-Length: 0" is an ordinary handshake.
func TestUpgradeRequestBody(t *testing.T) {
	cases := []struct {
		name   string
		req    string
		status int
	}{
		{
			name:   "Content-Length 5 with body",
			req:    handshakeRequest("Content-Length: 5\r\n") + "hello",
			status: http.StatusBadRequest,
		},
		{
			name:   "Transfer-Encoding chunked",
			req:    handshakeRequest("Transfer-Encoding: chunked\r\n") + "5\r\nhello\r\n0\r\n\r\n",
			status: http.StatusBadRequest,
		},
		{
			name:   "Transfer-Encoding chunked with empty body",
			req:    handshakeRequest("Transfer-Encoding: chunked\r\n") + "0\r\n\r\n",
			status: http.StatusBadRequest,
		},
		{
			name:   "Content-Length 0",
			req:    handshakeRequest("Content-Length: 0\r\n"),
			status: http.StatusSwitchingProtocols,
		},
		{
			name:   "no body headers",
			req:    handshakeRequest(""),
			status: http.StatusSwitchingProtocols,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			accepted := tc.status == http.StatusSwitchingProtocols
			addr, results := bodyServer(t, 1)
			nc, br := rawExchange(t, addr, []byte(tc.req))
			resp, err := http.ReadResponse(br, nil)
			require.NoError(t, err)
			defer resp.Body.Close()
			assert.Equal(t, tc.status, resp.StatusCode)

			if accepted {
				// The stream works: a frame sent now is the first message.
				_, err := nc.Write(maskedFrame(t, 1, "after"))
				require.NoError(t, err)
				// The handler then closes: take its close frame and drop
				// the connection instead of answering, so Close need not
				// wait for a close frame.
				hdr := make([]byte, 2)
				_, err = io.ReadFull(br, hdr)
				require.NoError(t, err)
				assert.Equal(t, byte(0x88), hdr[0], "close frame")
				require.NoError(t, nc.Close())
			} else {
				body, err := io.ReadAll(io.LimitReader(resp.Body, 512))
				require.NoError(t, err)
				assert.Contains(t, string(body), "websocket: ")
			}

			res := waitBodyResult(t, results)
			if accepted {
				require.NoError(t, res.err)
				assert.Equal(t, []string{"after"}, res.msgs)
				return
			}
			assert.ErrorIs(t, res.err, ErrRequestBody)
			var he HandshakeError
			require.ErrorAs(t, res.err, &he)
			assert.Equal(t, tc.status, he.Status)
			assert.Empty(t, res.msgs)
		})
	}
}

// TestUpgradeRequestBodyNotSmuggled: a body that is itself a masked text
// frame must not reach the application as a message (request smuggling
// into the WebSocket stream). The request is refused with 400 and the
// handler never gets a Conn.
func TestUpgradeRequestBodyNotSmuggled(t *testing.T) {
	smuggled := maskedFrame(t, 1, "smuggled")
	req := handshakeRequest("Content-Length: "+strconv.Itoa(len(smuggled))+"\r\n") + string(smuggled)
	addr, results := bodyServer(t, 1)
	_, br := rawExchange(t, addr, []byte(req))

	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Empty(t, resp.Header.Get("Sec-WebSocket-Accept"))

	res := waitBodyResult(t, results)
	assert.ErrorIs(t, res.err, ErrRequestBody)
	assert.Empty(t, res.msgs, "the request body was read as a WebSocket message")
}

// TestUpgradeH2RequestBodyIsTheStream: over HTTP/2 (RFC 8441) the request
// body carries the WebSocket stream, so a body is not refused there.
func TestUpgradeH2RequestBodyIsTheStream(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	r := httptest.NewRequest(http.MethodConnect, "https://example.com/ws", pr)
	r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/2.0", 2, 0
	r.ContentLength = -1
	r.Header.Set(":protocol", "websocket")
	r.Header.Set("Sec-WebSocket-Version", "13")
	w := httptest.NewRecorder()

	c, err := (&Upgrader{}).Upgrade(w, r, nil)
	require.NoError(t, err)
	require.NotNil(t, c)
	assert.Equal(t, http.StatusOK, w.Code)

	msg := maskedFrame(t, 1, "over h2")
	go func() { _, _ = pw.Write(msg) }()
	_, p, err := c.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, "over h2", string(p))
	require.NoError(t, c.NetConn().Close())
}
