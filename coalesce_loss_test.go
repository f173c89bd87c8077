package websocket

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsup/websocket/frame"
)

// heldWrites makes the server Conn srv hold n echoes back (write
// coalescing): the client sent a batch of pipelined messages (plus tail),
// the server read the first and wrote n messages "held0" … while the rest
// is buffered. The flush timer is pushed out of the way first, so only the
// path under test can send them.
func heldWrites(t *testing.T, srv *Conn, rc *rawClient, n int, tail ...rawFrame) []string {
	t.Helper()
	setDuration(t, coalesceDelay, time.Hour)
	b, _ := pipelinedFrames(3)
	for _, f := range tail {
		b = append(b, f.encode()...)
	}
	rc.sendBytes(b)
	_, _, err := srv.ReadMessage()
	require.NoError(t, err)
	var want []string
	for i := range n {
		msg := fmt.Sprintf("held%d", i)
		require.NoError(t, srv.WriteMessage(TextMessage, []byte(msg)))
		want = append(want, msg)
	}
	require.True(t, srv.hasPend.Load(), "the writes are held back")
	return want
}

// readUntilEnd reads data frames until a close frame or the end of the
// stream; it returns their payloads and the close code (0: none).
func readUntilEnd(t *testing.T, rc *rawClient) (got []string, code int) {
	t.Helper()
	for range 1000 {
		f, err := rc.read()
		if err != nil {
			require.ErrorIs(t, err, io.EOF, "the stream ends cleanly")
			return got, 0
		}
		if f.h.Opcode == frame.OpClose {
			if len(f.payload) >= 2 {
				code = int(binary.BigEndian.Uint16(f.payload))
			}
			return got, code
		}
		if f.h.Opcode.IsData() {
			got = append(got, string(f.payload))
		}
	}
	t.Fatal("no end in 1000 frames")
	return nil, 0
}

// TestCoalesceNothingLost: messages that WriteMessage reported as sent but
// coalescing holds back reach the peer on every path that ends the
// connection.
func TestCoalesceNothingLost(t *testing.T) {
	closeFrame := rawFrame{fin: true, op: frame.OpClose, payload: FormatCloseMessage(CloseNormalClosure, "")}
	quietLog := &http.Server{ErrorLog: log.New(io.Discard, "", 0)}
	cases := []struct {
		name     string
		tail     []rawFrame // sent with the pipelined batch
		end      func(t *testing.T, srv *Conn)
		wantCode int // close code the peer gets after the messages; 0: the TCP connection just ends
	}{
		{"NetConn().Close", nil, func(t *testing.T, srv *Conn) {
			require.NoError(t, srv.NetConn().Close())
		}, 0},
		{"SetWriteDeadline, then the socket closes", nil, func(t *testing.T, srv *Conn) {
			require.NoError(t, srv.SetWriteDeadline(time.Now().Add(time.Minute)))
			require.NoError(t, srv.conn.Close())
		}, 0},
		{"Close", nil, func(t *testing.T, srv *Conn) {
			go func() { _ = srv.Close() }()
		}, CloseNormalClosure},
		{"Upgrader.Shutdown", nil, func(t *testing.T, srv *Conn) {
			u := &Upgrader{}
			_, err := u.track(srv)
			require.NoError(t, err)
			go func() { _ = u.Shutdown(context.Background()) }()
		}, CloseGoingAway},
		{"keepalive idle timeout", nil, func(t *testing.T, srv *Conn) {
			srv.startKeepalive(0, 0, time.Millisecond)
		}, CloseGoingAway},
		{"Handler serve returns", nil, func(t *testing.T, srv *Conn) {
			go runDetached(srv, func(*Conn) {}, quietLog)
		}, CloseNormalClosure},
		{"Handler serve panics", nil, func(t *testing.T, srv *Conn) {
			go runDetached(srv, func(*Conn) { panic("boom") }, quietLog)
		}, CloseInternalServerErr},
		{"peer close", []rawFrame{closeFrame}, func(t *testing.T, srv *Conn) {
			go func() {
				for {
					if _, _, err := srv.ReadMessage(); err != nil {
						return
					}
				}
			}()
		}, CloseNormalClosure},
		{"protocol error", []rawFrame{{fin: true, op: 3}}, func(t *testing.T, srv *Conn) {
			go func() {
				for {
					if _, _, err := srv.ReadMessage(); err != nil {
						return
					}
				}
			}()
		}, CloseProtocolError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, cl := tcpPair(t)
			srv := newConn(s, connConfig{isServer: true})
			rc := newRawClient(t, cl)
			want := heldWrites(t, srv, rc, 5, tc.tail...)
			tc.end(t, srv)
			got, code := readUntilEnd(t, rc)
			// The rest of the pipelined batch may be echoed by nobody;
			// only the held messages matter, in order, before the end.
			assert.Equal(t, want, got)
			assert.Equal(t, tc.wantCode, code)
			_ = cl.Close()
		})
	}
}

// TestCoalesceFlushErrorReported: when held messages cannot be sent, the
// failure is not lost: the next write returns it, reads return it, and so
// does Close.
func TestCoalesceFlushErrorReported(t *testing.T) {
	s, cl := tcpPair(t)
	srv := newConn(s, connConfig{isServer: true})
	rc := newRawClient(t, cl)
	heldWrites(t, srv, rc, 3)
	require.NoError(t, s.(*net.TCPConn).CloseWrite()) // sending now fails
	srv.flushOnTimer()                                // what the timer does
	err := srv.WriteMessage(TextMessage, []byte("next"))
	require.Error(t, err, "the next write reports the failed flush")
	var rerr error
	for range 10 { // the messages already buffered come first
		if _, _, rerr = srv.ReadMessage(); rerr != nil {
			break
		}
	}
	assert.ErrorIs(t, rerr, err, "reads report it")
	assert.ErrorIs(t, srv.Close(), err, "Close reports it")
}
