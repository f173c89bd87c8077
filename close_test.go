package websocket

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsup/websocket/frame"
	"github.com/wsup/websocket/internal/deflate"
)

// readLoop reads from c until a read fails, and sends that error.
func readLoop(c *Conn) <-chan error {
	done := make(chan error, 1)
	go func() {
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				done <- err
				return
			}
		}
	}()
	return done
}

// TestCloseFromHandler: Close called from the ping, pong or close handler
// (on the reading goroutine) returns without waiting for a close frame that
// only this reader could read, and the handshake still completes. The close
// timeout is raised to an hour, so a Close that waits for it fails the test.
func TestCloseFromHandler(t *testing.T) {
	cases := []struct {
		name    string
		set     func(c *Conn, h func())
		trigger func(cc *Conn) error
	}{
		{"ping handler", func(c *Conn, h func()) {
			c.SetPingHandler(func(string) error { h(); return nil })
		}, func(cc *Conn) error { return cc.WriteControl(PingMessage, nil, time.Time{}) }},
		{"pong handler", func(c *Conn, h func()) {
			c.SetPongHandler(func(string) error { h(); return nil })
		}, func(cc *Conn) error { return cc.WriteControl(PongMessage, nil, time.Time{}) }},
		{"close handler", func(c *Conn, h func()) {
			c.SetCloseHandler(func(int, string) error { h(); return nil })
		}, func(cc *Conn) error {
			return cc.WriteControl(CloseMessage, FormatCloseMessage(CloseGoingAway, ""), time.Time{})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			setDuration(t, closeTimeout, time.Hour)
			sc, cc := connPair(t)
			closed := make(chan error, 1)
			tc.set(sc, func() { closed <- sc.Close() })
			serverRead := readLoop(sc)
			clientRead := readLoop(cc) // answers the server's close frame
			require.NoError(t, tc.trigger(cc))
			assert.NoError(t, within(t, closed, 10*time.Second, "Close in the handler"))
			within(t, serverRead, 10*time.Second, "the server's read")
			err := within(t, clientRead, 10*time.Second, "the client's read")
			assert.True(t, IsCloseError(err, CloseNormalClosure, CloseGoingAway), "client got %v", err)
			_, err = sc.conn.Write([]byte{0})
			assert.ErrorIs(t, err, net.ErrClosed, "the server closed its socket")
		})
	}
}

// TestCloseWhileWriterBlocked: Close from another goroutine while nobody
// reads and a write waits for the message lock: the waiting write returns
// ErrCloseSent, and Close returns as soon as the peer's close frame is
// here (read by Close itself), not at the timeout.
func TestCloseWhileWriterBlocked(t *testing.T) {
	setDuration(t, closeTimeout, time.Hour)
	sc, cc := connPair(t)
	w, err := sc.NextWriter(BinaryMessage)
	require.NoError(t, err)
	_, err = w.Write(make([]byte, 3*defaultWriteBufferSize)) // the message is going out
	require.NoError(t, err)
	blocked := make(chan error, 1)
	go func() { blocked <- sc.WriteMessage(TextMessage, []byte("waits")) }()
	clientRead := readLoop(cc)
	closed := make(chan error, 1)
	go func() { closed <- sc.Close() }()
	assert.ErrorIs(t, within(t, blocked, 10*time.Second, "the blocked write"), ErrCloseSent)
	assert.NoError(t, within(t, closed, 10*time.Second, "Close"))
	assert.ErrorIs(t, w.Close(), ErrCloseSent, "the open writer cannot finish its message")
	within(t, clientRead, 10*time.Second, "the client's read")
}

// TestFailedPongFailsConnection: a pong that cannot be written (the peer
// sends pings and never reads) fails the connection: the reader stops with
// the write's timeout error and the socket is closed, instead of going on
// reading pings with a dead write side.
func TestFailedPongFailsConnection(t *testing.T) {
	s, cl := tcpPair(t)
	require.NoError(t, s.(*net.TCPConn).SetWriteBuffer(4096))
	require.NoError(t, cl.(*net.TCPConn).SetReadBuffer(4096))
	sc := newConn(s, connConfig{isServer: true})
	serverRead := readLoop(sc)
	ping := rawFrame{fin: true, op: frame.OpPing, payload: make([]byte, 125)}.encode()
	batch := make([]byte, 0, 64*len(ping))
	for range 64 {
		batch = append(batch, ping...)
	}
	flood := make(chan error, 1)
	go func() {
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) { // bounded: the server must cut us off first
			_ = cl.SetWriteDeadline(time.Now().Add(time.Second))
			if _, err := cl.Write(batch); err != nil {
				var ne net.Error
				if ok := asNetError(err, &ne); ok && ne.Timeout() {
					continue // the server is not reading: it is stuck, or cut us off
				}
				flood <- err
				return
			}
		}
		flood <- nil
	}()
	err := within(t, serverRead, 15*time.Second, "the server's reader")
	var ne net.Error
	require.True(t, asNetError(err, &ne), "read error %v is the pong's write error", err)
	assert.True(t, ne.Timeout())
	_, werr := s.Write([]byte{0})
	assert.ErrorIs(t, werr, net.ErrClosed, "the server closed its socket")
	_ = cl.Close()
	within(t, flood, 25*time.Second, "the flooding client")
}

// TestWriteAfterCloseCompressed: on a compressed connection, writes after
// Close report ErrCloseSent (the compressor went back to its pool), as on
// any other connection.
func TestWriteAfterCloseCompressed(t *testing.T) {
	sc, cc := compressedPair(t, deflate.Params{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}, 0)
	clientRead := readLoop(cc)
	require.NoError(t, sc.WriteMessage(TextMessage, []byte("compressed before close")))
	require.NoError(t, sc.Close())
	within(t, clientRead, 10*time.Second, "the client's read")
	assert.ErrorIs(t, sc.WriteMessage(TextMessage, []byte("after close, long enough to compress")), ErrCloseSent)
	_, err := sc.NextWriter(BinaryMessage)
	assert.ErrorIs(t, err, ErrCloseSent)
	assert.ErrorIs(t, sc.WritePreparedMessage(mustPrepare(t, TextMessage, []byte("prepared"))), ErrCloseSent)
}

// mustPrepare returns a PreparedMessage.
func mustPrepare(t *testing.T, mt int, p []byte) *PreparedMessage {
	t.Helper()
	pm, err := NewPreparedMessage(mt, p)
	require.NoError(t, err)
	return pm
}

// asNetError is errors.As for a net.Error target.
func asNetError(err error, target *net.Error) bool { return errors.As(err, target) }

// TestCloseHandshakeFromServer: Close sends 1000, the client's reader sees
// it and echoes, Close returns after the echo.
func TestCloseHandshakeFromServer(t *testing.T) {
	sc, cc := connPair(t)
	clientErr := make(chan error, 1)
	go func() {
		_, _, err := cc.ReadMessage()
		clientErr <- err
	}()
	start := time.Now()
	require.NoError(t, sc.Close())
	assert.Less(t, time.Since(start), closeTimeout.get(), "Close waited for the timeout instead of the echo")
	err := <-clientErr
	assert.True(t, IsCloseError(err, CloseNormalClosure), "client got %v", err)
	// The server's reads now fail, and writes report the close.
	_, _, err = sc.ReadMessage()
	assert.Error(t, err)
	assert.ErrorIs(t, sc.WriteMessage(TextMessage, []byte("late")), ErrCloseSent)
	assert.NoError(t, sc.Close(), "second Close")
}

// TestCloseWakesBlockedReader: a goroutine blocked in ReadMessage on the
// server returns once Close runs on another goroutine.
func TestCloseWakesBlockedReader(t *testing.T) {
	sc, cc := connPair(t)
	serverErr := make(chan error, 1)
	go func() {
		_, _, err := sc.ReadMessage()
		serverErr <- err
	}()
	go func() { _, _, _ = cc.ReadMessage() }() // the client answers the close
	time.Sleep(10 * time.Millisecond)
	require.NoError(t, sc.Close())
	select {
	case err := <-serverErr:
		assert.True(t, IsCloseError(err, CloseNormalClosure), "got %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("reader not woken")
	}
}

// TestCloseSilentPeer: a peer that never answers the close frame makes
// Close give up after the close timeout, not hang.
func TestCloseSilentPeer(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the 5 s close timeout")
	}
	s, _ := tcpPair(t)
	sc := newConn(s, connConfig{isServer: true})
	start := time.Now()
	require.NoError(t, sc.Close())
	assert.GreaterOrEqual(t, time.Since(start), closeTimeout.get()-100*time.Millisecond)
}

// TestPeerClosesTCP: EOF between frames is an abnormal closure.
func TestPeerClosesTCP(t *testing.T) {
	s, c := tcpPair(t)
	sc := newConn(s, connConfig{isServer: true})
	require.NoError(t, c.Close())
	_, _, err := sc.ReadMessage()
	assert.True(t, IsCloseError(err, CloseAbnormalClosure), "got %v", err)
	// Mid-frame EOF is unexpected EOF.
	s, c = tcpPair(t)
	sc = newConn(s, connConfig{isServer: true})
	_, err = c.Write(rawFrame{fin: true, op: frame.OpBinary, payload: make([]byte, 10)}.encode()[:9])
	require.NoError(t, err)
	require.NoError(t, c.Close())
	_, _, err = sc.ReadMessage()
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

// TestDone: Done's channel stays open while the connection is, and is
// closed by Close and by the peer's closing handshake; a read that fails
// because the peer vanished leaves it to the application's Close. A Done
// called after the close returns a closed channel.
func TestDone(t *testing.T) {
	isClosed := func(ch <-chan struct{}) bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	t.Run("Close", func(t *testing.T) {
		sc, cc := connPair(t)
		done := sc.Done()
		assert.False(t, isClosed(done), "open connection")
		go func() { _, _, _ = cc.ReadMessage() }()
		require.NoError(t, sc.Close())
		assert.True(t, isClosed(done))
		assert.True(t, isClosed(sc.Done()), "Done after the close")
	})
	t.Run("peer closes", func(t *testing.T) {
		sc, cc := connPair(t)
		done := sc.Done()
		errc := echoServer(sc)
		require.NoError(t, cc.Close())
		waitErr(t, errc)
		within(t, done, 5*time.Second, "Done after the peer's close")
	})
	t.Run("read fails", func(t *testing.T) {
		sc, cc := connPair(t)
		done := sc.Done()
		errc := echoServer(sc)
		require.NoError(t, cc.NetConn().Close())
		assert.True(t, IsCloseError(waitErr(t, errc), CloseAbnormalClosure))
		assert.False(t, isClosed(done), "a failed read leaves the close to the application")
		require.NoError(t, sc.Close())
		assert.True(t, isClosed(done))
	})
}
