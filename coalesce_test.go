package websocket

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsup/websocket/frame"
)

// pipelinedFrames encodes n small text messages "m0", "m1", … as one
// byte slice, as a pipelining client sends them.
func pipelinedFrames(n int) ([]byte, []string) {
	var b []byte
	var want []string
	for i := range n {
		msg := fmt.Sprintf("m%d", i)
		want = append(want, msg)
		b = append(b, rawFrame{fin: true, op: frame.OpText, payload: []byte(msg)}.encode()...)
	}
	return b, want
}

// readTexts reads n data frames and returns their payloads as strings.
func readTexts(t *testing.T, rc *rawClient, n int) []string {
	t.Helper()
	var got []string
	for range n {
		f, err := rc.read()
		require.NoError(t, err)
		got = append(got, string(f.payload))
	}
	return got
}

// TestCoalescePipelined: echoes of messages that arrived together go out in
// far fewer writes than messages, in order, and with coalescing off in one
// write each.
func TestCoalescePipelined(t *testing.T) {
	const n = 20
	for _, tc := range []struct {
		name      string
		off       bool
		maxWrites int64
	}{
		// Normally one write carries every echo; on a slow machine the
		// 100µs timer may send some earlier, hence the margin.
		{name: "on", maxWrites: n / 2},
		{name: "off", off: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, cl := tcpPair(t)
			cc := &writeCountConn{Conn: s}
			srv := newConn(cc, connConfig{isServer: true, noCoalesce: tc.off})
			done := echoServer(srv)
			rc := newRawClient(t, cl)
			b, want := pipelinedFrames(n)
			rc.sendBytes(b)
			assert.Equal(t, want, readTexts(t, rc, n))
			if tc.off {
				assert.EqualValues(t, n, cc.writes.Load())
			} else {
				assert.LessOrEqual(t, cc.writes.Load(), tc.maxWrites, "writes for %d pipelined echoes", n)
			}
			cl.Close()
			assert.Error(t, waitErr(t, done))
		})
	}
}

// TestCoalesceBound: a frame held while the application stops reading is
// sent by the timer; the peer is not left waiting for it.
func TestCoalesceBound(t *testing.T) {
	s, cl := tcpPair(t)
	srv := newConn(s, connConfig{isServer: true})
	rc := newRawClient(t, cl)
	b, _ := pipelinedFrames(3)
	rc.sendBytes(b)
	release := make(chan struct{})
	go func() {
		_, p, err := srv.ReadMessage()
		if err == nil {
			_ = srv.WriteMessage(TextMessage, p)
		}
		<-release // more input is buffered, but nobody reads it
	}()
	defer close(release)
	start := time.Now()
	f, err := rc.read()
	require.NoError(t, err)
	assert.Equal(t, "m0", string(f.payload))
	assert.Less(t, time.Since(start), 4*time.Second)
}

// TestCoalesceOrder: held frames go out before a large message, a control
// frame and the close frame written after them, in the order written.
func TestCoalesceOrder(t *testing.T) {
	s, cl := tcpPair(t)
	srv := newConn(s, connConfig{isServer: true})
	rc := newRawClient(t, cl)
	b, _ := pipelinedFrames(6)
	rc.sendBytes(b)
	big := bytes.Repeat([]byte("x"), 64<<10)
	serverDone := make(chan error, 1)
	go func() {
		serverDone <- func() error {
			for i := range 6 {
				_, p, err := srv.ReadMessage()
				if err != nil {
					return err
				}
				if err := srv.WriteMessage(TextMessage, p); err != nil {
					return err
				}
				switch i {
				case 1:
					if err := srv.WriteMessage(BinaryMessage, big); err != nil {
						return err
					}
				case 3:
					if err := srv.WriteControl(PingMessage, []byte("p"), time.Now().Add(time.Second)); err != nil {
						return err
					}
				}
			}
			return srv.WriteControl(CloseMessage, FormatCloseMessage(CloseNormalClosure, ""), time.Now().Add(time.Second))
		}()
	}()
	var got []string
	for {
		f, err := rc.read()
		require.NoError(t, err)
		switch f.h.Opcode {
		case frame.OpBinary:
			require.Equal(t, big, f.payload)
			got = append(got, "big")
		case frame.OpPing:
			got = append(got, "ping")
		case frame.OpClose:
			got = append(got, "close")
		default:
			got = append(got, string(f.payload))
		}
		if f.h.Opcode == frame.OpClose {
			break
		}
	}
	assert.Equal(t, []string{"m0", "m1", "big", "m2", "m3", "ping", "m4", "m5", "close"}, got)
	require.NoError(t, <-serverDone)
}

// heldEcho returns a server Conn whose peer pipelined n messages, after the
// server read the first and wrote it back: that echo is held, since the
// next message is buffered. It also returns the server's socket and the
// peer.
func heldEcho(t *testing.T, n int) (*Conn, net.Conn, *rawClient) {
	t.Helper()
	s, cl := tcpPair(t)
	srv := newConn(s, connConfig{isServer: true})
	rc := newRawClient(t, cl)
	b, _ := pipelinedFrames(n)
	rc.sendBytes(b)
	_, p, err := srv.ReadMessage()
	require.NoError(t, err)
	require.NoError(t, srv.WriteMessage(TextMessage, p))
	return srv, s, rc
}

// TestCoalesceClose: Close sends the held frames before its close frame.
func TestCoalesceClose(t *testing.T) {
	srv, _, rc := heldEcho(t, 4)
	closed := make(chan error, 1)
	go func() { closed <- srv.Close() }()
	code, before := rc.expectClose()
	assert.Equal(t, CloseNormalClosure, code)
	require.Len(t, before, 1)
	assert.Equal(t, "m0", string(before[0].payload))
	rc.send(rawFrame{fin: true, op: frame.OpClose, payload: FormatCloseMessage(CloseNormalClosure, "")})
	require.NoError(t, <-closed)
}

// TestCoalesceWriteError: a held frame that cannot be sent makes later
// writes fail.
func TestCoalesceWriteError(t *testing.T) {
	srv, s, _ := heldEcho(t, 3)
	require.NoError(t, s.Close()) // the held frame can no longer go out
	require.Eventually(t, func() bool {
		return srv.WriteMessage(TextMessage, []byte("later")) != nil
	}, 5*time.Second, time.Millisecond)
}

// TestCoalesceDialer: a client Conn coalesces its answers to frames the
// server sent together, unless Dialer.DisableWriteCoalescing is set.
func TestCoalesceDialer(t *testing.T) {
	const n = 20
	for _, off := range []bool{false, true} {
		t.Run(fmt.Sprintf("disabled=%v", off), func(t *testing.T) {
			var up Upgrader
			got := make(chan []string, 1)
			srv := httptest.NewServer(up.Handler(func(c *Conn) {
				var burst []byte
				for i := range n {
					burst = append(burst, rawFrame{fin: true, op: frame.OpText, payload: []byte(fmt.Sprintf("m%d", i)), unmasked: true}.encode()...)
				}
				if _, err := c.NetConn().Write(burst); err != nil {
					got <- nil
					return
				}
				var echoes []string
				for range n {
					_, p, err := c.ReadMessage()
					if err != nil {
						break
					}
					echoes = append(echoes, string(p))
				}
				got <- echoes
			}))
			defer srv.Close()
			var cc *writeCountConn
			d := Dialer{
				DisableWriteCoalescing: off,
				NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
					nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
					if err != nil {
						return nil, err
					}
					cc = &writeCountConn{Conn: nc}
					return cc, nil
				},
			}
			c, _, err := d.Dial(dialURL(srv), nil)
			require.NoError(t, err)
			defer c.Close()
			cc.writes.Store(0) // count from the end of the handshake
			require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
			for range n {
				mt, p, err := c.ReadMessage()
				require.NoError(t, err)
				require.NoError(t, c.WriteMessage(mt, p))
			}
			_, want := pipelinedFrames(n)
			assert.Equal(t, want, <-got)
			if off {
				assert.EqualValues(t, n, cc.writes.Load())
			} else {
				// One write normally; margin for the timer on a slow machine.
				assert.LessOrEqual(t, cc.writes.Load(), int64(n/2))
			}
		})
	}
}

// holdByHand puts b in c's held bytes as holdLocked would, timer included.
func holdByHand(t *testing.T, c *Conn, b []byte) {
	t.Helper()
	require.NoError(t, c.acquireFrame(time.Time{}))
	defer c.releaseFrame()
	c.moreInput.Store(true)
	require.True(t, c.holdLocked(b))
}

// TestCoalesceNoWaitFlush covers the reader's no-wait flush on a plain
// socket: when the socket refuses the write with an error the connection
// is broken for writing with a write *net.OpError; when the RawConn itself
// refuses (a write deadline already passed), nothing is lost: the timer
// sends the bytes under the Conn's own deadline.
func TestCoalesceNoWaitFlush(t *testing.T) {
	t.Run("peer reset", func(t *testing.T) {
		s, cl := tcpPair(t)
		srv := newConn(s, connConfig{isServer: true})
		require.NotNil(t, srv.br.raw, "a *net.TCPConn has a RawConn")
		require.NoError(t, cl.(*net.TCPConn).SetLinger(0))
		require.NoError(t, cl.Close()) // RST
		holdByHand(t, srv, rawFrame{fin: true, op: frame.OpText, payload: []byte("held"), unmasked: true}.encode())
		srv.beforeNetRead()
		var err error
		require.Eventually(t, func() bool {
			err = srv.WriteMessage(TextMessage, []byte("after"))
			return err != nil
		}, 5*time.Second, time.Millisecond)
		var oe *net.OpError
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, "write", oe.Op)
		assert.False(t, srv.hasPend.Load(), "the held buffer was given back")
	})
	t.Run("deadline passed on the socket", func(t *testing.T) {
		s, cl := tcpPair(t)
		srv := newConn(s, connConfig{isServer: true})
		rc := newRawClient(t, cl)
		// Only the socket's deadline: the Conn's own is still none, and
		// the next real write applies it again.
		require.NoError(t, s.SetWriteDeadline(time.Now().Add(-time.Second)))
		require.NoError(t, srv.acquireFrame(time.Time{}))
		srv.appliedWriteNs = -1
		srv.releaseFrame()
		holdByHand(t, srv, rawFrame{fin: true, op: frame.OpText, payload: []byte("held"), unmasked: true}.encode())
		srv.beforeNetRead()
		f, err := rc.read()
		require.NoError(t, err)
		assert.Equal(t, "held", string(f.payload))
		require.NoError(t, srv.WriteMessage(TextMessage, []byte("next")))
		f, err = rc.read()
		require.NoError(t, err)
		assert.Equal(t, "next", string(f.payload))
	})
}
