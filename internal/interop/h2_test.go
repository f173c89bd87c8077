package interop

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wsup/websocket"
	"github.com/wsup/websocket/frame"
	"golang.org/x/net/http2"
)

// TestHTTP2 runs the RFC 8441 (WebSockets over HTTP/2) tests in a child
// process started with GODEBUG=http2xconnect=1: Go's HTTP/2 server reads
// that setting from the environment once, at start-up.
func TestHTTP2(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHTTP2Child$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "GODEBUG=http2xconnect=1", "WSUP_H2_CHILD=1")
	out, err := cmd.CombinedOutput()
	t.Logf("child process:\n%s", out)
	require.NoError(t, err)
	assert.Contains(t, string(out), "--- PASS: TestHTTP2Child")
}

// h2Stream is the client end of an extended CONNECT stream, speaking
// WebSocket frames by hand.
type h2Stream struct {
	t    *testing.T
	tr   *http2.Transport
	resp *http.Response
	w    *io.PipeWriter
}

// close ends the client's side of the stream, drains the server's and
// drops the HTTP/2 connection, so the test server can shut down.
func (s *h2Stream) close() {
	s.w.Close()
	_, _ = io.Copy(io.Discard, s.resp.Body)
	s.resp.Body.Close()
	s.tr.CloseIdleConnections()
}

// dialH2 sends an extended CONNECT with x/net's HTTP/2 client.
func dialH2(t *testing.T, srv *httptest.Server, header http.Header) *h2Stream {
	tr := &http2.Transport{TLSClientConfig: srv.Client().Transport.(*http.Transport).TLSClientConfig}
	t.Cleanup(tr.CloseIdleConnections)
	pr, pw := io.Pipe()
	req, err := http.NewRequest(http.MethodConnect, srv.URL+"/ws", pr)
	require.NoError(t, err)
	req.Header = header
	req.Header.Set(":protocol", "websocket")
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	return &h2Stream{t: t, tr: tr, resp: resp, w: pw}
}

func (s *h2Stream) send(op frame.Opcode, payload []byte) {
	h := frame.Header{Fin: true, Opcode: op, Masked: true, Length: int64(len(payload))}
	_, err := rand.Read(h.Key[:])
	require.NoError(s.t, err)
	b, err := frame.AppendHeader(nil, h)
	require.NoError(s.t, err)
	start := len(b)
	b = append(b, payload...)
	frame.Mask(h.Key, 0, b[start:])
	_, err = s.w.Write(b)
	require.NoError(s.t, err)
}

func (s *h2Stream) recv() (frame.Header, []byte) {
	var buf [frame.MaxHeaderSize]byte
	h, err := frame.ReadHeader(s.resp.Body, &buf)
	require.NoError(s.t, err)
	require.False(s.t, h.Masked, "server frames are unmasked")
	p := make([]byte, h.Length)
	_, err = io.ReadFull(s.resp.Body, p)
	require.NoError(s.t, err)
	return h, p
}

func TestHTTP2Child(t *testing.T) {
	if os.Getenv("WSUP_H2_CHILD") != "1" {
		return // only as TestHTTP2's child process
	}
	up := &websocket.Upgrader{Subprotocols: []string{"chat"}, EnableCompression: true}
	type seen struct {
		method string
		proto  int
	}
	requests := make(chan seen, 4)
	serverErr := make(chan error, 4)
	echo := up.Handler(func(c *websocket.Conn) {
		for {
			mt, p, err := c.ReadMessage()
			if err != nil {
				serverErr <- err
				return
			}
			if err := c.WriteMessage(mt, p); err != nil {
				serverErr <- err
				return
			}
		}
	})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests <- seen{r.Method, r.ProtoMajor}
		echo.ServeHTTP(w, r)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()

	h := http.Header{}
	h.Set("Sec-WebSocket-Version", "13")
	h.Set("Sec-WebSocket-Protocol", "chat")
	h.Set("Sec-WebSocket-Extensions", "permessage-deflate")
	s := dialH2(t, srv, h)
	require.Equal(t, http.StatusOK, s.resp.StatusCode)
	assert.Equal(t, seen{http.MethodConnect, 2}, <-requests, "the handshake went over HTTP/2")
	assert.Equal(t, "chat", s.resp.Header.Get("Sec-WebSocket-Protocol"))
	assert.Equal(t, "permessage-deflate", s.resp.Header.Get("Sec-WebSocket-Extensions"))

	// Under the 512-byte threshold, the echo comes back uncompressed.
	s.send(frame.OpText, []byte("hello over h2, κόσμε"))
	got, p := s.recv()
	assert.Equal(t, frame.OpText, got.Opcode)
	assert.False(t, got.Rsv1)
	assert.Equal(t, "hello over h2, κόσμε", string(p))

	// A ping is answered with a pong over the stream.
	s.send(frame.OpPing, []byte("ping"))
	got, p = s.recv()
	assert.Equal(t, frame.OpPong, got.Opcode)
	assert.Equal(t, "ping", string(p))

	// Close handshake: the server echoes the code and the stream ends.
	s.send(frame.OpClose, binary.BigEndian.AppendUint16(nil, 4000))
	got, p = s.recv()
	assert.Equal(t, frame.OpClose, got.Opcode)
	require.Len(t, p, 2)
	assert.Equal(t, uint16(4000), binary.BigEndian.Uint16(p))
	assert.True(t, websocket.IsCloseError(<-serverErr, 4000))
	rest, _ := io.ReadAll(s.resp.Body)
	assert.Empty(t, rest, "nothing after the close frame")
	s.close()

	// A large binary message crosses the stream intact.
	s2 := dialH2(t, srv, http.Header{"Sec-Websocket-Version": {"13"}})
	<-requests
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	s2.send(frame.OpBinary, big)
	got, p = s2.recv()
	assert.Equal(t, frame.OpBinary, got.Opcode)
	assert.True(t, bytes.Equal(big, p))
	s2.close() // the server's read sees the stream end
	assert.Error(t, <-serverErr)

	// A wrong version is refused with 400 naming the supported one.
	s3 := dialH2(t, srv, http.Header{"Sec-Websocket-Version": {"8"}})
	<-requests
	assert.Equal(t, http.StatusBadRequest, s3.resp.StatusCode)
	assert.Equal(t, "13", s3.resp.Header.Get("Sec-WebSocket-Version"))
	body, _ := io.ReadAll(s3.resp.Body)
	assert.Contains(t, strings.ToLower(string(body)), "version")
	s3.close()
}
