package websocket

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chunkConn serves data in reads of at most the next chunk size (cycling),
// then io.EOF. It stands for a connection that is not a plain socket.
type chunkConn struct {
	net.Conn
	data   []byte
	chunks []int
	i      int
	reads  int
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	c.reads++
	n := len(p)
	if len(c.chunks) > 0 {
		n = min(n, max(c.chunks[c.i%len(c.chunks)], 1))
		c.i++
	}
	n = copy(p[:n], c.data)
	c.data = c.data[n:]
	return n, nil
}

// readOp is one operation on a readBuffer: peek n bytes, read up to n
// bytes, or discard what the last peek returned.
type readOp struct {
	peek, read int
	discard    bool
}

// runReadOps applies ops to a readBuffer over conn (after the bytes hs
// holds) and returns every byte consumed, in order, and the first error.
func runReadOps(conn net.Conn, hs *bufio.Reader, size int, ops []readOp) ([]byte, error) {
	var b readBuffer
	b.init(conn, hs, size)
	var got, peeked []byte
	for _, op := range ops {
		switch {
		case op.peek > 0:
			p, err := b.Peek(min(op.peek, minReadBufferSize))
			if err != nil {
				return got, err
			}
			peeked = p
		case op.discard:
			got = append(got, peeked...)
			b.Discard(len(peeked))
			peeked = nil
		case op.read > 0:
			peeked = nil // a read consumes what was peeked
			p := make([]byte, op.read)
			n, err := b.Read(p)
			got = append(got, p[:n]...)
			if err != nil {
				return got, err
			}
		}
	}
	return got, nil
}

func TestReadBufferOps(t *testing.T) {
	stream := bytes.Repeat([]byte("0123456789abcdefghijklmnopqrstuvwxyz"), 300) // 10,800 bytes
	peekDiscard := []readOp{{peek: 2}, {peek: 14}, {discard: true}}
	cases := []struct {
		name   string
		chunks []int
		size   int
		early  int // bytes already buffered by the handshake reader
		ops    []readOp
	}{
		{"small reads, whole chunks", nil, 0, 0, []readOp{{read: 10}, {read: 100}, {read: 5000}, {read: 20000}}},
		{"one byte chunks", []int{1}, 0, 0, []readOp{{peek: 14}, {discard: true}, {read: 300}, {peek: 139}, {discard: true}}},
		{"peek across chunks", []int{3, 7, 200}, 0, 0, append(append([]readOp{}, peekDiscard...), peekDiscard...)},
		{"big read bypasses buffer", []int{5000}, 1024, 0, []readOp{{peek: 1}, {discard: true}, {read: 8000}, {read: 8000}}},
		{"tiny configured size", []int{90}, 10, 0, []readOp{{peek: 139}, {discard: true}, {read: 2000}}},
		{"handshake bytes first", []int{64}, 0, 100, []readOp{{peek: 14}, {discard: true}, {read: 50}, {read: 5000}}},
		{"handshake bytes beyond size", nil, 256, 1000, []readOp{{read: 700}, {peek: 139}, {discard: true}, {read: 10000}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var hs *bufio.Reader
			rest := stream
			if tc.early > 0 {
				hs = bufio.NewReaderSize(bytes.NewReader(stream[:tc.early]), 4096)
				_, err := hs.Peek(tc.early)
				require.NoError(t, err)
				rest = stream[tc.early:]
			}
			conn := &chunkConn{data: rest, chunks: tc.chunks}
			got, err := runReadOps(conn, hs, tc.size, tc.ops)
			require.NoError(t, err)
			assert.Equal(t, stream[:len(got)], got, "bytes come out in order, none lost or repeated")
			if hs != nil {
				assert.Zero(t, hs.Size(), "the handshake reader's buffer is dropped")
			}
			// Read to the end: everything arrives, then io.EOF.
			all, err := runReadOps(&chunkConn{data: stream, chunks: tc.chunks}, nil, tc.size, repeatOps(readOp{read: 777}, len(stream)+2))
			assert.ErrorIs(t, err, io.EOF)
			assert.Equal(t, stream, all)
		})
	}
}

func repeatOps(op readOp, n int) []readOp {
	ops := make([]readOp, n)
	for i := range ops {
		ops[i] = op
	}
	return ops
}

// TestReadBufferShortPeek: at EOF, Peek returns the bytes there are with
// the error.
func TestReadBufferShortPeek(t *testing.T) {
	var b readBuffer
	b.init(&chunkConn{data: []byte("abc")}, nil, 0)
	p, err := b.Peek(5)
	assert.ErrorIs(t, err, io.EOF)
	assert.Equal(t, "abc", string(p))
	n, err := b.Read(make([]byte, 2))
	assert.NoError(t, err)
	assert.Equal(t, 2, n)
}

// TestReadBufferSmallWhenWaiting: on a connection that is not a plain
// socket, a read that starts empty and found the source drained goes into
// a small buffer; after a read that filled its buffer the full size is
// used.
func TestReadBufferSmallWhenWaiting(t *testing.T) {
	var b readBuffer
	conn := &chunkConn{data: bytes.Repeat([]byte("x"), 100000), chunks: []int{10}}
	b.init(conn, nil, 4096)
	_, err := b.Peek(2)
	require.NoError(t, err)
	assert.Len(t, b.buf, minReadBufferSize, "a short read: small buffer")
	b.Discard(b.Buffered())
	conn.chunks = nil // every read now fills the buffer
	_, err = b.Peek(2)
	require.NoError(t, err)
	b.Discard(b.Buffered())
	_, err = b.Peek(2)
	require.NoError(t, err)
	assert.Len(t, b.buf, 4096, "after a read that filled the buffer: full size")
}

// TestReadBufferReleasedWhileWaiting: on a TCP socket, a reader that waits
// for data holds no buffer; its errors read as net.Conn.Read's.
func TestReadBufferReleasedWhileWaiting(t *testing.T) {
	s, c := tcpPair(t)
	var b readBuffer
	b.init(s, nil, 0)
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		require.Nil(t, b.raw)
	} else {
		require.NotNil(t, b.raw, "a *net.TCPConn is read through its RawConn")
	}
	_, err := c.Write([]byte("hello"))
	require.NoError(t, err)
	p, err := b.Peek(5)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(p))
	b.Discard(5)

	// Nothing more comes: the read waits until the deadline.
	require.NoError(t, s.SetReadDeadline(time.Now().Add(20*time.Millisecond)))
	_, err = b.Peek(1)
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.Timeout())
	assert.True(t, strings.HasPrefix(err.Error(), "read tcp "), err.Error())
	if b.raw != nil {
		assert.Nil(t, b.pb, "no buffer held while waiting")
	}

	// The peer closes: io.EOF.
	require.NoError(t, s.SetReadDeadline(time.Time{}))
	var b2 readBuffer
	b2.init(s, nil, 0)
	require.NoError(t, c.Close())
	_, err = b2.Peek(1)
	assert.ErrorIs(t, err, io.EOF)

	// This side closed: net.ErrClosed.
	require.NoError(t, s.Close())
	var b3 readBuffer
	b3.init(s, nil, 0)
	_, err = b3.Peek(1)
	assert.True(t, errors.Is(err, net.ErrClosed), "%v", err)
}

// TestReadBufferHotGrows: on a plain socket, a read that fills the buffer
// makes the next one hotReadFactor times larger (more frames per system
// call), every byte still arrives in order, and the buffer goes back to
// the default size once reads stop filling it.
func TestReadBufferHotGrows(t *testing.T) {
	s, c := tcpPair(t)
	var b readBuffer
	b.init(s, nil, 0)
	if b.raw == nil {
		t.Skip("no RawConn reads on " + runtime.GOOS)
	}
	data := make([]byte, 64<<10)
	for i := range data {
		data[i] = byte(i * 7)
	}
	go func() { _, _ = c.Write(data) }()
	var got []byte
	sizes := map[int]bool{}
	for len(got) < len(data) {
		_, err := b.Peek(1)
		require.NoError(t, err)
		sizes[len(b.buf)] = true
		p, err := b.Peek(min(b.Buffered(), minReadBufferSize))
		require.NoError(t, err)
		got = append(got, p...)
		b.Discard(len(p))
	}
	assert.Equal(t, data, got)
	assert.True(t, sizes[hotReadFactor*defaultReadBufferSize], "a full read made the next one larger: %v", sizes)

	// A short read cools it down: the read after it uses the default size.
	for _, msg := range []string{"x", "y"} {
		_, err := c.Write([]byte(msg))
		require.NoError(t, err)
		p, err := b.Peek(1)
		require.NoError(t, err)
		assert.Equal(t, msg, string(p))
		b.Discard(1)
	}
	assert.Len(t, b.buf, defaultReadBufferSize)

	// A long payload read straight into the caller's slice (past the
	// buffer) leaves no reason for a larger buffer next time.
	b.hot = true
	_, err := c.Write(make([]byte, 2*defaultReadBufferSize))
	require.NoError(t, err)
	n, err := b.Read(make([]byte, 2*defaultReadBufferSize))
	require.NoError(t, err)
	assert.Positive(t, n)
	assert.False(t, b.hot)
}

// FuzzReadBuffer checks that any mix of peeks, discards and reads over any
// chunking of the input returns the input's bytes in order.
func FuzzReadBuffer(f *testing.F) {
	f.Add([]byte("hello, world: a short stream"), []byte{2, 14, 0, 200}, []byte{1, 3})
	f.Add(bytes.Repeat([]byte{0x81, 0xfe, 0x01, 0x00}, 200), []byte{6, 0, 255, 139, 0}, []byte{7})
	f.Add(bytes.Repeat([]byte("z"), 5000), []byte{255, 255, 255, 1, 0}, []byte{})
	f.Fuzz(func(t *testing.T, data, opBytes, chunkBytes []byte) {
		var ops []readOp
		for i, o := range opBytes {
			switch {
			case o == 0:
				ops = append(ops, readOp{discard: true})
			case i%2 == 0:
				ops = append(ops, readOp{peek: int(o)})
			default:
				ops = append(ops, readOp{read: int(o) * 17})
			}
		}
		chunks := make([]int, len(chunkBytes))
		for i, c := range chunkBytes {
			chunks[i] = int(c)
		}
		got, err := runReadOps(&chunkConn{data: data, chunks: chunks}, nil, 300, ops)
		if err != nil && err != io.EOF {
			t.Fatalf("unexpected error %v", err)
		}
		if !bytes.Equal(got, data[:len(got)]) {
			t.Fatalf("bytes out of order: got %q from %q", got, data)
		}
	})
}

// TestReadAllocsOverTCP: reading messages into a buffer over a real socket
// (the RawConn path on Unix) does not allocate.
func TestReadAllocsOverTCP(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts need a build without -race (sync.Pool drops items under the race detector)")
	}
	s, c := tcpPair(t)
	sc := newConn(s, connConfig{isServer: true})
	one := rawFrame{fin: true, op: 2, payload: []byte("steady state over tcp")}.encode()
	const runs = 1000
	stream := bytes.Repeat(one, runs+1) // AllocsPerRun runs once more to warm up
	sent := make(chan error, 1)
	go func() {
		_, err := c.Write(stream)
		sent <- err
	}()
	buf := make([]byte, 64)
	allocs := testing.AllocsPerRun(runs, func() {
		sc.readMu.Lock()
		_, err := sc.nextMessageLocked()
		if err == nil {
			_, err = sc.readLocked(buf)
		}
		sc.readMu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
	})
	require.NoError(t, <-sent)
	assert.Zero(t, allocs, "allocations per message read")
}
