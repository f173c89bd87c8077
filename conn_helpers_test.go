package websocket

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wsup/websocket/frame"
)

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t testing.TB) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			accepted <- nil
			return
		}
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	server = <-accepted
	require.NotNil(t, server)
	t.Cleanup(func() {
		server.Close()
		client.Close()
	})
	return server, client
}

// connPair returns a server Conn and a client Conn talking to each other.
func connPair(t testing.TB) (server, client *Conn) {
	s, c := tcpPair(t)
	return newConn(s, connConfig{isServer: true}), newConn(c, connConfig{isServer: false})
}

// rawClient speaks frames by hand, to send what a well-behaved client
// would not.
type rawClient struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

func newRawClient(t testing.TB, nc net.Conn) *rawClient {
	return &rawClient{t: t, nc: nc, br: bufio.NewReader(nc)}
}

// rawFrame describes a frame to send.
type rawFrame struct {
	fin      bool
	rsv      byte // bits 0x40, 0x20, 0x10
	op       frame.Opcode
	payload  []byte
	unmasked bool
}

// encode builds the frame's bytes, masked with a random key unless unmasked.
func (f rawFrame) encode() []byte {
	b0 := byte(f.op) | f.rsv
	if f.fin {
		b0 |= 0x80
	}
	out := []byte{b0}
	var maskBit byte = 0x80
	if f.unmasked {
		maskBit = 0
	}
	n := len(f.payload)
	switch {
	case n <= 125:
		out = append(out, maskBit|byte(n))
	case n <= 0xffff:
		out = append(out, maskBit|126)
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out = append(out, maskBit|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	if f.unmasked {
		return append(out, f.payload...)
	}
	var key [4]byte
	_, _ = rand.Read(key[:])
	out = append(out, key[:]...)
	start := len(out)
	out = append(out, f.payload...)
	frame.Mask(key, 0, out[start:])
	return out
}

func (rc *rawClient) send(frames ...rawFrame) {
	rc.t.Helper()
	var b []byte
	for _, f := range frames {
		b = append(b, f.encode()...)
	}
	rc.sendBytes(b)
}

func (rc *rawClient) sendBytes(b []byte) {
	rc.t.Helper()
	require.NoError(rc.t, rc.nc.SetWriteDeadline(time.Now().Add(5*time.Second)))
	_, err := rc.nc.Write(b)
	require.NoError(rc.t, err)
}

// gotFrame is a frame the raw client received.
type gotFrame struct {
	h       frame.Header
	payload []byte
}

// read reads one frame from the server; ok is false on EOF or error.
func (rc *rawClient) read() (gotFrame, error) {
	rc.t.Helper()
	if err := rc.nc.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return gotFrame{}, err
	}
	var buf [frame.MaxHeaderSize]byte
	h, err := frame.ReadHeader(rc.br, &buf)
	if err != nil {
		return gotFrame{}, err
	}
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(rc.br, p); err != nil {
		return gotFrame{}, err
	}
	return gotFrame{h: h, payload: p}, nil
}

// expectClose reads frames until a close frame and returns its code
// (CloseNoStatusReceived for an empty payload). Data frames before it are
// returned too.
func (rc *rawClient) expectClose() (code int, before []gotFrame) {
	rc.t.Helper()
	for i := 0; i < 1000; i++ {
		f, err := rc.read()
		require.NoError(rc.t, err, "reading until the close frame")
		if f.h.Opcode == frame.OpClose {
			require.False(rc.t, f.h.Masked, "server frames are unmasked")
			if len(f.payload) == 0 {
				return CloseNoStatusReceived, before
			}
			require.GreaterOrEqual(rc.t, len(f.payload), 2)
			return int(binary.BigEndian.Uint16(f.payload)), before
		}
		before = append(before, f)
	}
	rc.t.Fatal("no close frame in 1000 frames")
	return 0, nil
}

// expectEOF checks that the server closed the TCP connection.
func (rc *rawClient) expectEOF() {
	rc.t.Helper()
	require.NoError(rc.t, rc.nc.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err := rc.br.ReadByte()
	require.ErrorIs(rc.t, err, io.EOF, "server should close the TCP connection")
}

// echoServer runs echoUntilErr with c on a goroutine of its own; the error
// that ended it is sent on the returned channel.
func echoServer(c *Conn) <-chan error {
	done := make(chan error, 1)
	go func() { done <- echoUntilErr(c) }()
	return done
}

// echoUntilErr reads whole messages and writes them back until a read or a
// write fails, and returns that error.
func echoUntilErr(c *Conn) error {
	for {
		mt, p, err := c.ReadMessage()
		if err != nil {
			return err
		}
		if err := c.WriteMessage(mt, p); err != nil {
			return err
		}
	}
}

// waitErr waits for the echo server's read error.
func waitErr(t testing.TB, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("echo server did not stop")
		return nil
	}
}

func newTestBufReader(nc net.Conn) *bufio.Reader { return bufio.NewReaderSize(nc, 4096) }

// setDuration sets a package duration for the test, restoring it after.
func setDuration(t testing.TB, v *durationVar, d time.Duration) {
	old := v.get()
	v.ns.Store(int64(d))
	t.Cleanup(func() { v.ns.Store(int64(old)) })
}

// within returns the value ch delivers, failing the test when it takes
// longer than d.
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

// serveOneConn listens on 127.0.0.1, accepts one connection, bounds it by
// dialTestTimeout and runs serve with it, then closes it; serve gets the
// accept or deadline error instead (nc nil or unusable) when one occurs.
// It returns the listener's address; the server stops with the test.
func serveOneConn(t testing.TB, serve func(nc net.Conn, err error)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		nc, err := ln.Accept()
		if err != nil {
			serve(nil, err)
			return
		}
		defer nc.Close()
		serve(nc, nc.SetDeadline(time.Now().Add(dialTestTimeout)))
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return ln.Addr().String()
}

// goroutinesWaitingIn counts the goroutines blocked on network input with
// fn on their stack.
func goroutinesWaitingIn(fn string) int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "[IO wait") && strings.Contains(g, fn) {
			count++
		}
	}
	return count
}
