package websocket

import (
	"bytes"
	"io"
	"math"
	"net"
	"net/http/httptest"
	"strings"
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
		// Write in uneven pieces so fragments and direct writes mix.
		checkEcho(t, cc, BinaryMessage, pattern(n), func(rest int) int { return 1000 + rest/3 })
	}
	require.NoError(t, cc.Close())
	assert.True(t, IsCloseError(waitErr(t, done), CloseNormalClosure))
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

// TestBufferSizeClamp: buffer sizes from the Upgrader and the Dialer are
// clamped: a size <= 0 selects the default, and sizes over the documented
// maximum (1 MiB) are taken as that maximum.
func TestBufferSizeClamp(t *testing.T) {
	cases := []struct {
		name        string
		size        int
		read, write int
	}{
		{"zero selects the default", 0, defaultReadBufferSize, defaultWriteBufferSize},
		{"negative selects the default", -5, defaultReadBufferSize, defaultWriteBufferSize},
		{"tiny read buffer holds a control frame", 16, minReadBufferSize, 16},
		{"ordinary", 65536, 65536, 65536},
		{"at the maximum", maxBufferSize, maxBufferSize, maxBufferSize},
		{"just over the maximum", maxBufferSize + 1, maxBufferSize, maxBufferSize},
		{"absurd", math.MaxInt, maxBufferSize, maxBufferSize},
	}
	require.Equal(t, 1<<20, maxBufferSize, "the maximum documented on Upgrader and Dialer")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := net.Pipe()
			defer s.Close()
			c := newConn(s, connConfig{isServer: true, readBufferSize: tc.size, writeBufferSize: tc.size})
			assert.Equal(t, tc.read, c.br.size, "read buffer size")
			assert.Equal(t, tc.write, c.writeBufSize, "write buffer size")
		})
	}
}

// TestHugeBufferSizesEndToEnd: an Upgrader and a Dialer configured with
// absurd buffer sizes work (with clamped buffers) instead of panicking.
func TestHugeBufferSizesEndToEnd(t *testing.T) {
	up := &Upgrader{ReadBufferSize: math.MaxInt, WriteBufferSize: math.MaxInt}
	done := make(chan error, 1)
	srv := httptest.NewServer(up.Handler(func(c *Conn) { done <- <-echoServer(c) }))
	defer srv.Close()
	require.True(t, strings.HasPrefix(srv.Listener.Addr().String(), "127.0.0.1:"))
	d := &Dialer{ReadBufferSize: math.MaxInt, WriteBufferSize: math.MaxInt, HandshakeTimeout: testIOTimeout}
	c, _, err := d.Dial("ws://"+srv.Listener.Addr().String(), nil)
	require.NoError(t, err)
	defer c.Close()
	for _, n := range []int{10, 100000, maxBufferSize + 10} {
		msg := pattern(n)
		require.NoError(t, c.WriteMessage(BinaryMessage, msg))
		require.NoError(t, c.SetReadDeadline(time.Now().Add(testIOTimeout)))
		_, got, err := c.ReadMessage()
		require.NoError(t, err)
		assert.True(t, bytes.Equal(msg, got), "echo of %d bytes", n)
	}
	require.NoError(t, c.Close())
	select {
	case err := <-done:
		assert.True(t, IsCloseError(err, CloseNormalClosure), "server read error: %v", err)
	case <-time.After(testIOTimeout):
		t.Fatal("server did not stop")
	}
}

// checkEcho sends msg as a message of type mt through cc to an echo
// server twice, with WriteMessage and with NextWriter in pieces of
// piece(bytes left) bytes, and checks each echo, read with ReadMessage and
// with NextReader.
func checkEcho(t *testing.T, cc *Conn, mt int, msg []byte, piece func(rest int) int) {
	t.Helper()
	require.NoError(t, cc.WriteMessage(mt, msg))
	gotType, got, err := cc.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, mt, gotType)
	assert.True(t, bytes.Equal(msg, got), "size %d", len(msg))

	w, err := cc.NextWriter(mt)
	require.NoError(t, err)
	for rest := msg; len(rest) > 0; {
		k := min(len(rest), piece(len(rest)))
		_, err := w.Write(rest[:k])
		require.NoError(t, err)
		rest = rest[k:]
	}
	require.NoError(t, w.Close())
	gotType, r, err := cc.NextReader()
	require.NoError(t, err)
	assert.Equal(t, mt, gotType)
	got, err = io.ReadAll(r)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(msg, got), "size %d via NextWriter", len(msg))
}
