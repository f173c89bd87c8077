package interop

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wsup/websocket"
	"github.com/wsup/websocket/frame"
)

// runH2Child runs the test named child in a child process started with
// GODEBUG=http2xconnect=1 (see TestHTTP2) and checks that it passed.
func runH2Child(t *testing.T, child string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+child+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "GODEBUG=http2xconnect=1", "WSUP_H2_CHILD=1")
	out, err := cmd.CombinedOutput()
	t.Logf("child process:\n%s", out)
	require.NoError(t, err)
	assert.Contains(t, string(out), "--- PASS: "+child)
}

// within returns what ch delivers, failing the test when that takes longer
// than d.
func within[T any](t *testing.T, ch <-chan T, d time.Duration, what string) T {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		require.FailNowf(t, "timed out", "%s did not happen within %v", what, d)
		var zero T
		return zero
	}
}

// h2Server starts a TLS server with HTTP/2 on 127.0.0.1 serving h, closed
// (connections first, so that no handler keeps it waiting) when the test
// ends.
func h2Server(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	t.Cleanup(srv.CloseClientConnections)
	return srv
}

func wsHeader() http.Header {
	h := http.Header{}
	h.Set("Sec-WebSocket-Version", "13")
	return h
}

// TestHTTP2StalledPeer: over HTTP/2, a client that stops reading leaves
// the server's write blocked on flow control; Conn.Close, Upgrader.Shutdown
// and keepalive must still close the connection within their bounds.
func TestHTTP2StalledPeer(t *testing.T) { runH2Child(t, "TestHTTP2StalledPeerChild") }

func TestHTTP2StalledPeerChild(t *testing.T) {
	if os.Getenv("WSUP_H2_CHILD") != "1" {
		return // only as TestHTTP2StalledPeer's child process
	}
	// Four times x/net's default per-stream window (4 MiB): the message
	// can never be written whole while the client does not read.
	big := make([]byte, 16<<20)
	cases := []struct {
		name     string
		upgrader websocket.Upgrader
		// close closes the server's connection by the path under test
		// and returns what to expect of it (nil: nothing to wait for).
		close func(t *testing.T, up *websocket.Upgrader, c *websocket.Conn) <-chan error
		want  func(t *testing.T, err error)
	}{{
		name: "Conn.Close",
		close: func(t *testing.T, _ *websocket.Upgrader, c *websocket.Conn) <-chan error {
			done := make(chan error, 1)
			go func() { done <- c.Close() }()
			return done
		},
		// The close frame cannot go out (the frame lock stays taken): Close
		// gives up after 5 s and reports it as a timeout.
		want: func(t *testing.T, err error) {
			var ne net.Error
			if assert.ErrorAs(t, err, &ne) {
				assert.True(t, ne.Timeout(), "%v", err)
			}
		},
	}, {
		name: "Upgrader.Shutdown",
		close: func(t *testing.T, up *websocket.Upgrader, _ *websocket.Conn) <-chan error {
			done := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				done <- up.Shutdown(ctx)
			}()
			return done
		},
		want: func(t *testing.T, err error) { assert.ErrorIs(t, err, context.DeadlineExceeded) },
	}, {
		name:     "keepalive",
		upgrader: websocket.Upgrader{PingInterval: 200 * time.Millisecond, PongTimeout: 200 * time.Millisecond},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			up := &tc.upgrader
			conns := make(chan *websocket.Conn, 1)
			writeErr := make(chan error, 1)
			srv := h2Server(t, up.Handler(func(c *websocket.Conn) {
				conns <- c
				writeErr <- c.WriteMessage(websocket.BinaryMessage, big)
			}))
			s := dialH2(t, srv, wsHeader())
			t.Cleanup(s.close)
			// Cleanups run last first: if the server's write is still
			// stuck, cutting the connection lets s.close drain the body.
			t.Cleanup(srv.CloseClientConnections)
			require.Equal(t, http.StatusOK, s.resp.StatusCode)
			c := within(t, conns, 10*time.Second, "the upgrade")

			// The frame has started: the server holds the write lock
			// until the whole frame is out, which never happens as the
			// client reads nothing more.
			var hdr [2]byte
			_, err := io.ReadFull(s.resp.Body, hdr[:])
			require.NoError(t, err)

			start := time.Now()
			if tc.close != nil {
				err := within(t, tc.close(t, up, c), 15*time.Second, tc.name)
				tc.want(t, err)
			}
			assert.Error(t, within(t, writeErr, 15*time.Second, "the end of the blocked write"))
			assert.Less(t, time.Since(start), 15*time.Second)
		})
	}
}

// TestHTTP2ShutdownPattern: with WebSockets over HTTP/2, the HTTP/2
// connection stays active while its streams are open, so http.Server's
// Shutdown waits for them. Upgrader.Shutdown called from RegisterOnShutdown
// closes them with 1001 as Shutdown begins, and Shutdown then finishes
// well before its deadline; called after Shutdown, it comes too late.
func TestHTTP2ShutdownPattern(t *testing.T) { runH2Child(t, "TestHTTP2ShutdownPatternChild") }

func TestHTTP2ShutdownPatternChild(t *testing.T) {
	if os.Getenv("WSUP_H2_CHILD") != "1" {
		return // only as TestHTTP2ShutdownPattern's child process
	}
	cases := []struct {
		name    string
		hook    bool          // Upgrader.Shutdown runs from RegisterOnShutdown
		timeout time.Duration // of srv.Shutdown's context
		wantErr error         // of srv.Shutdown
	}{
		{name: "RegisterOnShutdown", hook: true, timeout: 10 * time.Second},
		{name: "Upgrader.Shutdown after srv.Shutdown", timeout: 500 * time.Millisecond, wantErr: context.DeadlineExceeded},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			up := &websocket.Upgrader{}
			opened := make(chan struct{}, 1)
			handlerErr := make(chan error, 1)
			srv := h2Server(t, up.Handler(func(c *websocket.Conn) {
				opened <- struct{}{}
				for {
					if _, _, err := c.ReadMessage(); err != nil {
						handlerErr <- err
						return
					}
				}
			}))
			upDone := make(chan error, 1)
			shutdownWS := func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				upDone <- up.Shutdown(ctx)
			}
			if tc.hook {
				srv.Config.RegisterOnShutdown(shutdownWS)
			}

			s := dialH2(t, srv, wsHeader())
			t.Cleanup(s.close)
			require.Equal(t, http.StatusOK, s.resp.StatusCode)
			within(t, opened, 10*time.Second, "the upgrade")

			// The client answers the server's close frame.
			clientSaw := make(chan uint16, 1)
			go func() {
				var buf [frame.MaxHeaderSize]byte
				h, err := frame.ReadHeader(s.resp.Body, &buf)
				if err != nil || h.Opcode != frame.OpClose || h.Length < 2 {
					clientSaw <- 0
					return
				}
				p := make([]byte, h.Length)
				if _, err := io.ReadFull(s.resp.Body, p); err != nil {
					clientSaw <- 0
					return
				}
				if _, err := s.w.Write(maskedClose(p[:2])); err != nil {
					clientSaw <- 0
					return
				}
				clientSaw <- binary.BigEndian.Uint16(p)
			}()

			ctx, cancel := context.WithTimeout(context.Background(), tc.timeout)
			defer cancel()
			start := time.Now()
			err := srv.Config.Shutdown(ctx)
			if tc.wantErr != nil {
				assert.ErrorIs(t, err, tc.wantErr)
				// The WebSocket is still open: Shutdown waited in vain.
				select {
				case code := <-clientSaw:
					assert.Failf(t, "the client saw a close frame", "code %d", code)
				default:
				}
				shutdownWS()
			} else {
				require.NoError(t, err)
				assert.Less(t, time.Since(start), tc.timeout, "srv.Shutdown returned before its deadline")
			}
			assert.NoError(t, within(t, upDone, 15*time.Second, "Upgrader.Shutdown"))
			assert.Equal(t, uint16(websocket.CloseGoingAway), within(t, clientSaw, 15*time.Second, "the client's read"))
			assert.ErrorIs(t, within(t, handlerErr, 15*time.Second, "the handler's read error"), websocket.ErrShuttingDown)
		})
	}
}

// maskedClose returns a client close frame with the given payload.
func maskedClose(payload []byte) []byte {
	h := frame.Header{Fin: true, Opcode: frame.OpClose, Masked: true, Length: int64(len(payload))}
	h.Key = [4]byte{0x12, 0x34, 0x56, 0x78}
	b, err := frame.AppendHeader(nil, h)
	if err != nil {
		panic(err) // a close frame header is always valid
	}
	start := len(b)
	b = append(b, payload...)
	frame.Mask(h.Key, 0, b[start:])
	return b
}
