package websocket

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dialScriptResult is what a scripted server observed.
type dialScriptResult struct {
	req *http.Request // the handshake request, when parsed
	eof bool          // the client closed the connection after the response
	err error
}

// startDialScript starts a one-connection server on 127.0.0.1. When parse is
// set it reads the handshake request and writes respond(req) in one write
// (nothing when respond returns nil); otherwise it reads the first bytes and
// calls respond(nil), writing nothing. Then it reads until the client closes
// the connection, and reports on the channel. Every step is bounded by
// dialTestTimeout.
func startDialScript(t *testing.T, parse bool, respond func(*http.Request) []byte) (addr string, result <-chan dialScriptResult) {
	t.Helper()
	res := make(chan dialScriptResult, 1)
	addr = serveOneConn(t, func(nc net.Conn, err error) {
		var r dialScriptResult
		defer func() { res <- r }()
		if r.err = err; err != nil {
			return
		}
		br := bufio.NewReader(nc)
		if parse {
			if r.req, r.err = http.ReadRequest(br); r.err != nil {
				return
			}
			if out := respond(r.req); out != nil {
				if _, r.err = nc.Write(out); r.err != nil {
					return
				}
			}
		} else {
			if _, r.err = br.ReadByte(); r.err != nil {
				return
			}
			respond(nil)
		}
		_, r.err = io.Copy(io.Discard, br)
		if errors.Is(r.err, syscall.ECONNRESET) {
			// The client closed with unread bytes in its buffer.
			r.err = nil
		}
		r.eof = r.err == nil
	})
	return addr, res
}

// awaitScript returns the scripted server's result.
func awaitScript(t *testing.T, res <-chan dialScriptResult) dialScriptResult {
	t.Helper()
	select {
	case r := <-res:
		return r
	case <-time.After(dialTestTimeout):
		t.Fatal("scripted server did not finish")
		return dialScriptResult{}
	}
}

// response101 returns a valid 101 response to req followed by extra header
// lines.
func response101(req *http.Request, extra ...string) []byte {
	lines := append([]string{
		"HTTP/1.1 101 Switching Protocols",
		"Upgrade: websocket",
		"Connection: Upgrade",
		"Sec-WebSocket-Accept: " + computeAcceptKey(req.Header.Get("Sec-WebSocket-Key")),
	}, extra...)
	return []byte(strings.Join(lines, "\r\n") + "\r\n\r\n")
}

func TestDialBadHandshake(t *testing.T) {
	accept := func(r *http.Request) string {
		return "Sec-WebSocket-Accept: " + computeAcceptKey(r.Header.Get("Sec-WebSocket-Key"))
	}
	longBody := strings.Repeat("x", 5000)
	cases := []struct {
		name      string
		protocols []string
		respond   func(r *http.Request) string
		status    int
		body      string
	}{
		{"forbidden with body", nil, func(*http.Request) string {
			return "HTTP/1.1 403 Forbidden\r\nContent-Length: 14\r\n\r\nforbidden here"
		}, 403, "forbidden here"},
		{"body kept to 1 KiB", nil, func(*http.Request) string {
			return "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5000\r\n\r\n" + longBody
		}, 500, longBody[:1024]},
		{"200 OK", nil, func(r *http.Request) string {
			return "HTTP/1.1 200 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + accept(r) + "\r\nContent-Length: 0\r\n\r\n"
		}, 200, ""},
		{"wrong accept", nil, func(*http.Request) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
				computeAcceptKey("dGhlIHNhbXBsZSBub25jZQ==") + "\r\n\r\n"
		}, 101, ""},
		{"missing accept", nil, func(*http.Request) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
		}, 101, ""},
		{"two accepts", nil, func(r *http.Request) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + accept(r) + "\r\n" + accept(r) + "\r\n\r\n"
		}, 101, ""},
		{"missing upgrade", nil, func(r *http.Request) string {
			return "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n" + accept(r) + "\r\n\r\n"
		}, 101, ""},
		{"upgrade to other protocol", nil, func(r *http.Request) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n" + accept(r) + "\r\n\r\n"
		}, 101, ""},
		{"missing connection", nil, func(r *http.Request) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n" + accept(r) + "\r\n\r\n"
		}, 101, ""},
		{"connection without upgrade", nil, func(r *http.Request) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n" + accept(r) + "\r\n\r\n"
		}, 101, ""},
		{"unrequested subprotocol", nil, func(r *http.Request) string {
			return string(response101(r, "Sec-WebSocket-Protocol: chat"))
		}, 101, ""},
		{"subprotocol not among requested", []string{"a", "b"}, func(r *http.Request) string {
			return string(response101(r, "Sec-WebSocket-Protocol: c"))
		}, 101, ""},
		{"subprotocol differs in case", []string{"chat"}, func(r *http.Request) string {
			return string(response101(r, "Sec-WebSocket-Protocol: Chat"))
		}, 101, ""},
		{"two subprotocols", []string{"a", "b"}, func(r *http.Request) string {
			return string(response101(r, "Sec-WebSocket-Protocol: a", "Sec-WebSocket-Protocol: b"))
		}, 101, ""},
		{"subprotocol list", []string{"a", "b"}, func(r *http.Request) string {
			return string(response101(r, "Sec-WebSocket-Protocol: a, b"))
		}, 101, ""},
		{"unexpected extension", nil, func(r *http.Request) string {
			return string(response101(r, "Sec-WebSocket-Extensions: permessage-deflate"))
		}, 101, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr, res := startDialScript(t, true, func(r *http.Request) []byte { return []byte(tc.respond(r)) })
			d := &Dialer{Subprotocols: tc.protocols, HandshakeTimeout: dialTestTimeout}
			c, resp, err := d.Dial("ws://"+addr, nil)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.ErrorIs(t, err, ErrBadHandshake)
			require.NotNil(t, resp)
			assert.Equal(t, tc.status, resp.StatusCode)
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, tc.body, string(body))
			r := awaitScript(t, res)
			require.NoError(t, r.err)
			assert.True(t, r.eof, "client did not close the connection")
		})
	}
}

// TestDialResponseVariants checks valid 101 responses that differ from the
// usual form.
func TestDialResponseVariants(t *testing.T) {
	cases := []struct {
		name      string
		protocols []string
		extra     []string
		upgrade   string
		conn      string
		want      string
	}{
		{"case-insensitive tokens", nil, nil, "WebSocket", "UPGRADE", ""},
		{"token lists", nil, nil, "foo, websocket", "keep-alive, Upgrade", ""},
		{"empty extensions and protocol", nil, []string{"Sec-WebSocket-Extensions:", "Sec-WebSocket-Protocol:"}, "websocket", "Upgrade", ""},
		{"selected subprotocol", []string{"a", "b"}, []string{"Sec-WebSocket-Protocol: b"}, "websocket", "Upgrade", "b"},
		{"other headers", nil, []string{"Server: test", "Set-Cookie: a=b"}, "websocket", "Upgrade", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr, res := startDialScript(t, true, func(r *http.Request) []byte {
				lines := append([]string{
					"HTTP/1.1 101 Switching Protocols",
					"Upgrade: " + tc.upgrade,
					"Connection: " + tc.conn,
					"Sec-WebSocket-Accept: " + computeAcceptKey(r.Header.Get("Sec-WebSocket-Key")),
				}, tc.extra...)
				return []byte(strings.Join(lines, "\r\n") + "\r\n\r\n")
			})
			d := &Dialer{Subprotocols: tc.protocols, HandshakeTimeout: dialTestTimeout}
			c, resp, err := d.Dial("ws://"+addr, nil)
			require.NoError(t, err)
			assert.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
			assert.Equal(t, tc.want, c.Subprotocol())
			// The scripted server is no WebSocket peer: skip the closing
			// handshake.
			require.NoError(t, c.NetConn().Close())
			r := awaitScript(t, res)
			require.NoError(t, r.err)
			assert.True(t, r.eof)
		})
	}
}

// TestDialFirstFrameWithResponse checks that a frame the server sends in the
// same write as the 101 response is read, over a net.Pipe (whose single
// write reaches the client's buffered reader whole) and over TCP.
func TestDialFirstFrameWithResponse(t *testing.T) {
	first := []byte{0x81, 0x02, 'h', 'i', 0x82, 0x01, 0x07}
	check := func(t *testing.T, c *Conn) {
		mt, p, err := c.ReadMessage()
		require.NoError(t, err)
		assert.Equal(t, TextMessage, mt)
		assert.Equal(t, "hi", string(p))
		mt, p, err = c.ReadMessage()
		require.NoError(t, err)
		assert.Equal(t, BinaryMessage, mt)
		assert.Equal(t, []byte{7}, p)
	}
	for _, size := range []int{0, 16, 4096, 1 << 16} {
		t.Run(fmt.Sprintf("pipe read buffer %d", size), func(t *testing.T) {
			client, server := net.Pipe()
			done := make(chan error, 1)
			go func() {
				defer server.Close()
				_ = server.SetDeadline(time.Now().Add(dialTestTimeout))
				req, err := http.ReadRequest(bufio.NewReader(server))
				if err != nil {
					done <- err
					return
				}
				_, err = server.Write(append(response101(req), first...))
				if err == nil {
					_, err = io.Copy(io.Discard, server)
				}
				done <- err
			}()
			d := &Dialer{
				ReadBufferSize:   size,
				HandshakeTimeout: dialTestTimeout,
				NetDialContext:   func(context.Context, string, string) (net.Conn, error) { return client, nil },
			}
			c, _, err := d.Dial("ws://example.com", nil)
			require.NoError(t, err)
			check(t, c)
			require.NoError(t, c.NetConn().Close())
			require.NoError(t, <-done)
		})
	}
	t.Run("tcp", func(t *testing.T) {
		addr, res := startDialScript(t, true, func(r *http.Request) []byte {
			return append(response101(r), first...)
		})
		c, _, err := (&Dialer{HandshakeTimeout: dialTestTimeout}).Dial("ws://"+addr, nil)
		require.NoError(t, err)
		check(t, c)
		require.NoError(t, c.NetConn().Close())
		r := awaitScript(t, res)
		require.NoError(t, r.err)
	})
}

func TestDialResponseTooLarge(t *testing.T) {
	addr, res := startDialScript(t, true, func(*http.Request) []byte {
		var b bytes.Buffer
		b.WriteString("HTTP/1.1 101 Switching Protocols\r\n")
		for b.Len() < maxResponseHeadBytes+1024 {
			b.WriteString("X-Pad: " + strings.Repeat("p", 100) + "\r\n")
		}
		return b.Bytes()
	})
	c, resp, err := (&Dialer{HandshakeTimeout: dialTestTimeout}).Dial("ws://"+addr, nil)
	assert.Nil(t, c)
	assert.Nil(t, resp)
	assert.ErrorIs(t, err, errResponseTooLarge)
	r := awaitScript(t, res)
	require.NoError(t, r.err)
	assert.True(t, r.eof)
}

// FuzzDialerResponse feeds arbitrary bytes to the client as the server's
// handshake response, over a net.Pipe. "{ACCEPT}" in the input is replaced
// by the accept value for the request's key, so valid responses are
// reachable. The client requests subprotocol "chat". The dial must never
// panic or hang, and must close the connection on error.
func FuzzDialerResponse(f *testing.F) {
	ok := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {ACCEPT}\r\n"
	f.Add([]byte(ok + "\r\n"))
	f.Add([]byte(ok + "\r\n\x81\x02hi"))
	f.Add([]byte(ok + "Sec-WebSocket-Protocol: chat\r\n\r\n\x88\x02\x03\xe8"))
	f.Add([]byte(ok + "Sec-WebSocket-Protocol: other\r\n\r\n"))
	f.Add([]byte(ok + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"))
	f.Add([]byte(ok + "\r\n\x81\x7f\xff\xff\xff\xff\xff\xff\xff\xff"))
	f.Add([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 3\r\n\r\nno!"))
	f.Add([]byte("HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"))
	f.Add([]byte("HTTP/1.0 500 Oops\r\n\r\nbody until close"))
	f.Add([]byte("HTTP/1.1 101\r\n\r\n"))
	f.Add([]byte("garbage\r\n\r\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		client, server := net.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer server.Close()
			_ = server.SetDeadline(time.Now().Add(dialTestTimeout))
			br := bufio.NewReader(server)
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			// Drain what the client writes (pongs, close frames) while
			// the response is written, so neither side blocks.
			drained := make(chan struct{})
			go func() {
				defer close(drained)
				_, _ = io.Copy(io.Discard, br)
			}()
			accept := computeAcceptKey(req.Header.Get("Sec-WebSocket-Key"))
			_, _ = server.Write(bytes.ReplaceAll(data, []byte("{ACCEPT}"), []byte(accept)))
			server.Close()
			<-drained
		}()
		d := &Dialer{
			Subprotocols:     []string{"chat"},
			HandshakeTimeout: dialTestTimeout,
			NetDialContext:   func(context.Context, string, string) (net.Conn, error) { return client, nil },
		}
		c, resp, err := d.Dial("ws://example.com", nil)
		if err != nil {
			assert.Nil(t, c)
			if errors.Is(err, ErrBadHandshake) {
				require.NotNil(t, resp)
				b, rerr := io.ReadAll(resp.Body)
				assert.NoError(t, rerr)
				assert.LessOrEqual(t, len(b), maxErrorBodyBytes)
			}
			// The connection is closed: writing to it fails at once.
			_, werr := client.Write([]byte{0})
			assert.ErrorIs(t, werr, io.ErrClosedPipe)
		} else {
			require.NotNil(t, resp)
			assert.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
			// Read what the server sent after the response; it then
			// closed its end, so this ends.
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					break
				}
			}
			_ = c.NetConn().Close()
		}
		<-done
	})
}
