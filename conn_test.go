package websocket

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsup/websocket/frame"
)

func pattern(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i*7 + i>>8)
	}
	return p
}

// TestRoundTripSizes echoes messages of many sizes through our own client
// Conn, with both WriteMessage and NextWriter on each side.
func TestRoundTripSizes(t *testing.T) {
	sc, cc := connPair(t)
	done := echoServer(sc)
	sizes := []int{0, 1, 125, 126, 127, 4095, 4096, 4097, 65535, 65536, 65537, 1 << 20, 16 << 20}
	for _, n := range sizes {
		msg := pattern(n)
		require.NoError(t, cc.WriteMessage(BinaryMessage, msg))
		mt, got, err := cc.ReadMessage()
		require.NoError(t, err)
		assert.Equal(t, BinaryMessage, mt)
		assert.True(t, bytes.Equal(msg, got), "size %d", n)

		w, err := cc.NextWriter(BinaryMessage)
		require.NoError(t, err)
		// Write in uneven pieces so fragments and direct writes mix.
		for rest := msg; len(rest) > 0; {
			k := min(len(rest), 1000+len(rest)/3)
			_, err := w.Write(rest[:k])
			require.NoError(t, err)
			rest = rest[k:]
		}
		require.NoError(t, w.Close())
		mt, r, err := cc.NextReader()
		require.NoError(t, err)
		assert.Equal(t, BinaryMessage, mt)
		got, err = io.ReadAll(r)
		require.NoError(t, err)
		assert.True(t, bytes.Equal(msg, got), "size %d via NextWriter", n)
	}
	require.NoError(t, cc.Close())
	assert.True(t, IsCloseError(waitErr(t, done), CloseNormalClosure))
}

// TestNextWriterFragments checks that a long NextWriter message goes out as
// several frames: the first with the message opcode, continuations after,
// FIN only on the last.
func TestNextWriterFragments(t *testing.T) {
	s, c := tcpPair(t)
	sc := newConn(s, connConfig{isServer: true, writeBufferSize: 16})
	rc := newRawClient(t, c)
	w, err := sc.NextWriter(TextMessage)
	require.NoError(t, err)
	for i := 0; i < 5; i++ {
		_, err := w.Write([]byte("0123456789"))
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	var got []byte
	for i := 0; ; i++ {
		f, err := rc.read()
		require.NoError(t, err)
		if i == 0 {
			assert.Equal(t, frame.OpText, f.h.Opcode)
		} else {
			assert.Equal(t, frame.OpContinuation, f.h.Opcode)
		}
		got = append(got, f.payload...)
		if f.h.Fin {
			break
		}
		require.Less(t, i, 10)
	}
	assert.Equal(t, bytes.Repeat([]byte("0123456789"), 5), got)
	_, err = w.Write([]byte("x"))
	assert.Error(t, err, "write after Close")
	assert.Error(t, w.Close(), "second Close")
}

// TestConcurrentWriters has 50 goroutines write to one Conn; every message
// must arrive whole, and per writer in order.
func TestConcurrentWriters(t *testing.T) {
	sc, cc := connPair(t)
	const writers, perWriter = 50, 40
	var wg sync.WaitGroup
	for g := 0; g < writers; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				msg := make([]byte, 8+(g*31+i*17)%5000)
				binary.BigEndian.PutUint32(msg, uint32(g))
				binary.BigEndian.PutUint32(msg[4:], uint32(i))
				for j := 8; j < len(msg); j++ {
					msg[j] = byte(g + i + j)
				}
				var err error
				switch i % 3 {
				case 0:
					err = sc.WriteMessage(BinaryMessage, msg)
				case 1:
					var w io.WriteCloser
					if w, err = sc.NextWriter(BinaryMessage); err == nil {
						_, _ = w.Write(msg[:len(msg)/2])
						_, _ = w.Write(msg[len(msg)/2:])
						err = w.Close()
					}
				default:
					err = sc.WriteControl(PingMessage, []byte("p"), time.Now().Add(5*time.Second))
					if err == nil {
						err = sc.WriteMessage(BinaryMessage, msg)
					}
				}
				if err != nil {
					t.Errorf("writer %d: %v", g, err)
					return
				}
			}
		}(g)
	}
	next := make([]int, writers)
	pings := 0
	cc.SetPingHandler(func(string) error { pings++; return nil })
	for n := 0; n < writers*perWriter; n++ {
		require.NoError(t, cc.SetReadDeadline(time.Now().Add(10*time.Second)))
		_, msg, err := cc.ReadMessage()
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(msg), 8)
		g, i := int(binary.BigEndian.Uint32(msg)), int(binary.BigEndian.Uint32(msg[4:]))
		require.Less(t, g, writers)
		assert.Equal(t, next[g], i, "writer %d out of order", g)
		next[g] = i + 1
		for j := 8; j < len(msg); j++ {
			if msg[j] != byte(g+i+j) {
				t.Fatalf("writer %d message %d corrupt at %d", g, i, j)
			}
		}
	}
	wg.Wait()
	assert.Equal(t, writers*((perWriter+1)/3), pings)
}

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

// TestReadDeadline: a read that times out fails with a timeout net.Error.
func TestReadDeadline(t *testing.T) {
	sc, _ := connPair(t)
	require.NoError(t, sc.SetReadDeadline(time.Now().Add(20*time.Millisecond)))
	_, _, err := sc.ReadMessage()
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.Timeout())
	_, _, err2 := sc.ReadMessage()
	assert.Equal(t, err, err2, "read errors are sticky")
}

// TestWriteDeadline: writes to a peer that does not read time out.
func TestWriteDeadline(t *testing.T) {
	sc, _ := connPair(t)
	require.NoError(t, sc.SetWriteDeadline(time.Now().Add(50*time.Millisecond)))
	big := make([]byte, 1<<20)
	var err error
	for i := 0; i < 200 && err == nil; i++ {
		err = sc.WriteMessage(BinaryMessage, big)
	}
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.Timeout())
	assert.Error(t, sc.WriteMessage(BinaryMessage, []byte("x")), "write errors are sticky")
}

// TestWriteControlDeadlineWhileBusy: WriteControl gives up at its deadline
// when another frame holds the connection.
func TestWriteControlDeadlineWhileBusy(t *testing.T) {
	sc, _ := connPair(t)
	sc.frameMu <- struct{}{} // a frame write in progress
	err := sc.WriteControl(PingMessage, nil, time.Now().Add(20*time.Millisecond))
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.Timeout())
	<-sc.frameMu
	assert.NoError(t, sc.WriteControl(PingMessage, nil, time.Now().Add(time.Second)))
}

func TestBadArguments(t *testing.T) {
	sc, _ := connPair(t)
	assert.ErrorIs(t, sc.WriteMessage(3, nil), ErrBadMessageType)
	assert.ErrorIs(t, sc.WriteControl(TextMessage, nil, time.Time{}), ErrBadMessageType)
	assert.ErrorIs(t, sc.WriteControl(PingMessage, make([]byte, 126), time.Time{}), ErrControlTooLong)
	_, err := sc.NextWriter(7)
	assert.ErrorIs(t, err, ErrBadMessageType)
	assert.Error(t, sc.SetCompressionLevel(10))
	assert.NoError(t, sc.SetCompressionLevel(5))
}

// TestStaleReader: a message reader fails once the next message is asked
// for, and the unread rest of its message is skipped.
func TestStaleReader(t *testing.T) {
	sc, cc := connPair(t)
	require.NoError(t, cc.WriteMessage(TextMessage, []byte("first message")))
	require.NoError(t, cc.WriteMessage(TextMessage, []byte("second")))
	_, r1, err := sc.NextReader()
	require.NoError(t, err)
	buf := make([]byte, 5)
	_, err = io.ReadFull(r1, buf)
	require.NoError(t, err)
	_, r2, err := sc.NextReader()
	require.NoError(t, err)
	_, err = r1.Read(buf)
	assert.ErrorIs(t, err, errStaleReader)
	got, err := io.ReadAll(r2)
	require.NoError(t, err)
	assert.Equal(t, "second", string(got))
}

func TestJSON(t *testing.T) {
	sc, cc := connPair(t)
	type msg struct {
		Name string
		N    int
	}
	require.NoError(t, cc.WriteJSON(msg{"a", 1}))
	var got msg
	require.NoError(t, sc.ReadJSON(&got))
	assert.Equal(t, msg{"a", 1}, got)
	assert.Error(t, cc.WriteJSON(func() {}), "unencodable value")
	require.NoError(t, cc.WriteMessage(TextMessage, nil))
	assert.ErrorIs(t, sc.ReadJSON(&got), io.ErrUnexpectedEOF)
}

// TestHandlers: custom ping and pong handlers run; a handler error becomes
// the read error.
func TestHandlers(t *testing.T) {
	sc, cc := connPair(t)
	var pongs []string
	cc.SetPongHandler(func(s string) error { pongs = append(pongs, s); return nil })
	boom := errors.New("boom")
	sc.SetPingHandler(func(s string) error {
		if s == "stop" {
			return boom
		}
		return sc.WriteControl(PongMessage, []byte("re:"+s), time.Now().Add(time.Second))
	})
	done := echoServer(sc)
	require.NoError(t, cc.WriteControl(PingMessage, []byte("1"), time.Now().Add(time.Second)))
	require.NoError(t, cc.WriteMessage(TextMessage, []byte("x")))
	_, p, err := cc.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, "x", string(p))
	assert.Equal(t, []string{"re:1"}, pongs)
	require.NoError(t, cc.WriteControl(PingMessage, []byte("stop"), time.Now().Add(time.Second)))
	assert.ErrorIs(t, waitErr(t, done), boom)
	assert.NotNil(t, sc.PingHandler())
	assert.NotNil(t, sc.PongHandler())
	assert.NotNil(t, sc.CloseHandler())
}

// TestBufferedBytesKept: bytes that a bufio.Reader (net/http's, after a
// hijack) already holds are read first, whatever the read buffer size.
func TestBufferedBytesKept(t *testing.T) {
	for _, size := range []int{0, 4096, 100, 65536} {
		s, c := tcpPair(t)
		first := rawFrame{fin: true, op: frame.OpText, payload: []byte("early")}.encode()
		_, err := c.Write(append(first, rawFrame{fin: true, op: frame.OpText, payload: []byte("later")}.encode()...))
		require.NoError(t, err)
		br := newTestBufReader(s)
		_, err = br.Peek(len(first)) // net/http read these along with the request
		require.NoError(t, err)
		sc := newConn(s, connConfig{isServer: true, br: br, readBufferSize: size})
		for _, want := range []string{"early", "later"} {
			_, p, err := sc.ReadMessage()
			require.NoError(t, err, "size %d", size)
			assert.Equal(t, want, string(p), "size %d", size)
		}
	}
}
