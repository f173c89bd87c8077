package websocket

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsup/websocket/frame"
)

// The adversarial tests attack a default server (Upgrader{} served through
// Upgrader.Handler on a plain http.Server) with hostile peers speaking raw
// TCP: hand-written handshakes and hand-built frames. They check that the
// server answers with the right close code, closes the TCP connection and
// keeps its memory bounded. The memory-measuring ones are in
// adversarial_mem_test.go.

// advServer is a default Upgrader's Handler on an http.Server listening on
// 127.0.0.1. Every serve call sends its Conn on started when it begins and
// the error it returns on ended.
type advServer struct {
	addr    string
	started chan *Conn
	ended   chan error
	serving atomic.Int32 // serve calls not yet returned
}

// startAdvServer serves u.Handler(serve) until the test ends. The cleanup
// closes the server and waits for the serve calls, which end once the
// test's clients (closed by cleanups registered later, which run first)
// are gone.
func startAdvServer(t *testing.T, u *Upgrader, serve func(*Conn) error) *advServer {
	t.Helper()
	s := &advServer{started: make(chan *Conn, 1024), ended: make(chan error, 1024)}
	var wg sync.WaitGroup
	h := u.Handler(func(c *Conn) {
		wg.Add(1)
		defer wg.Done()
		s.serving.Add(1)
		defer s.serving.Add(-1)
		s.started <- c
		s.ended <- serve(c)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: testIOTimeout}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
	s.addr = ln.Addr().String()
	t.Cleanup(func() {
		_ = srv.Close()
		<-served
		// Handler's serve goroutines outlive net/http's handler (the
		// connection was hijacked): wait for them, bounded.
		if !pollUntil(20*time.Second, func() bool { return s.serving.Load() == 0 }) {
			t.Errorf("%d serve calls still running after the clients closed", s.serving.Load())
		}
		wg.Wait()
	})
	return s
}

// pollUntil calls cond every 10 ms until it returns true (then true) or d
// has passed (then false).
func pollUntil(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// nextEnded waits for a serve call's result.
func (s *advServer) nextEnded(t *testing.T, d time.Duration) (error, bool) {
	t.Helper()
	select {
	case err := <-s.ended:
		return err, true
	case <-time.After(d):
		return nil, false
	}
}

// dialWS opens a raw TCP connection to addr, sends the opening handshake
// with the extra header lines, and returns the client once the 101
// response is read. The connection is closed when the test ends.
func dialWS(t *testing.T, addr, extra string) (*rawClient, *http.Response) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, testIOTimeout)
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	rc := newRawClient(t, nc)
	rc.sendBytes([]byte(handshakeRequest(extra)))
	require.NoError(t, nc.SetReadDeadline(time.Now().Add(testIOTimeout)))
	resp, err := http.ReadResponse(rc.br, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	require.NoError(t, nc.SetDeadline(time.Time{}))
	return rc, resp
}

// maskedHeader returns the header of a masked client frame announcing
// length payload bytes, masked with key.
func maskedHeader(fin bool, rsv byte, op frame.Opcode, length int64, key [4]byte) []byte {
	h := frame.Header{Fin: fin, Rsv1: rsv&0x40 != 0, Opcode: op, Masked: true, Key: key, Length: length}
	b, err := frame.AppendHeader(nil, h)
	if err != nil {
		panic(err)
	}
	return b
}

// maskedZeros returns n zero payload bytes masked with key from key
// position 0 (n a multiple of 4): the key repeated.
func maskedZeros(key [4]byte, n int) []byte {
	return bytes.Repeat(key[:], n/4)
}

// isConnClosedErr reports whether err is what a socket reports once the
// peer closed it: EOF after a FIN, ECONNRESET or EPIPE after a RST (the
// peer closed with unread input).
func isConnClosedErr(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// expectTCPClosed reads and discards what the server still sends, up to
// limit bytes, and checks that the connection then ends within the test's
// I/O timeout.
func (rc *rawClient) expectTCPClosed(limit int64) {
	rc.t.Helper()
	require.NoError(rc.t, rc.nc.SetReadDeadline(time.Now().Add(testIOTimeout)))
	n, err := io.CopyN(io.Discard, rc.br, limit)
	assert.True(rc.t, isConnClosedErr(err), "server should close the TCP connection; after %d bytes: %v", n, err)
}

// TestAdversarialProtocolViolations sends each violation to a default
// server and checks the close code, the TCP close and the serve function's
// read error.
func TestAdversarialProtocolViolations(t *testing.T) {
	long := bytes.Repeat([]byte("p"), 126)
	cases := []struct {
		name    string
		frames  []rawFrame
		raw     []byte
		code    int
		wantErr error
	}{
		{name: "unmasked client frame", frames: []rawFrame{{fin: true, op: frame.OpText, payload: []byte("hi"), unmasked: true}}, code: CloseProtocolError, wantErr: ErrProtocol},
		{name: "reserved opcode 3", frames: []rawFrame{{fin: true, op: 3, payload: []byte("x")}}, code: CloseProtocolError, wantErr: ErrProtocol},
		{name: "rsv2", frames: []rawFrame{{fin: true, rsv: 0x20, op: frame.OpBinary, payload: []byte("x")}}, code: CloseProtocolError, wantErr: ErrProtocol},
		{name: "ping with 126-byte payload", frames: []rawFrame{{fin: true, op: frame.OpPing, payload: long}}, code: CloseProtocolError, wantErr: ErrProtocol},
		{name: "fragmented ping", frames: []rawFrame{{op: frame.OpPing, payload: []byte("a")}}, code: CloseProtocolError, wantErr: ErrProtocol},
		{name: "continuation without start", frames: []rawFrame{{fin: true, op: frame.OpContinuation, payload: []byte("x")}}, code: CloseProtocolError, wantErr: ErrProtocol},
		{name: "invalid utf8 text", frames: []rawFrame{{fin: true, op: frame.OpText, payload: []byte{'o', 'k', 0xff, 0xfe}}}, code: CloseInvalidFramePayloadData, wantErr: ErrInvalidUTF8},
		{name: "close 1-byte payload", frames: []rawFrame{{fin: true, op: frame.OpClose, payload: []byte{0x03}}}, code: CloseProtocolError, wantErr: ErrProtocol},
		{name: "close code 1005", frames: []rawFrame{{fin: true, op: frame.OpClose, payload: closePayload(1005, "")}}, code: CloseProtocolError, wantErr: ErrProtocol},
		{name: "close code 999", frames: []rawFrame{{fin: true, op: frame.OpClose, payload: closePayload(999, "")}}, code: CloseProtocolError, wantErr: ErrProtocol},
		{name: "close reason invalid utf8", frames: []rawFrame{{fin: true, op: frame.OpClose, payload: append(closePayload(1000, ""), 0xc3, 0x28)}}, code: CloseInvalidFramePayloadData, wantErr: ErrInvalidUTF8},
		{name: "64-bit length with top bit", raw: []byte{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4}, code: CloseProtocolError, wantErr: ErrProtocol},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startAdvServer(t, &Upgrader{}, echoUntilErr)
			rc, _ := dialWS(t, s.addr, "")
			if len(tc.frames) > 0 {
				rc.send(tc.frames...)
			}
			if len(tc.raw) > 0 {
				rc.sendBytes(tc.raw)
			}
			code, before := rc.expectClose()
			assert.Equal(t, tc.code, code)
			assert.Empty(t, before, "nothing is echoed before the close")
			rc.expectTCPClosed(1 << 10)
			err, ok := s.nextEnded(t, testIOTimeout)
			require.True(t, ok, "serve did not return")
			assert.ErrorIs(t, err, tc.wantErr)
		})
	}
}

// TestAdversarialUpgradeWithBody sends upgrade requests carrying a body (a
// masked text frame, "smuggled" as request body): RFC 6455 section 4.1's
// handshake is a GET without a body, and bytes of a body must never be
// taken as WebSocket frames. The server must answer 400, and serve must
// never run.
func TestAdversarialUpgradeWithBody(t *testing.T) {
	smuggled := textFrame("smuggled").encode()
	cases := []struct {
		name, extra string
		body        []byte
	}{
		{name: "Content-Length", extra: "Content-Length: " + strconv.Itoa(len(smuggled)) + "\r\n", body: smuggled},
		{name: "chunked", extra: "Transfer-Encoding: chunked\r\n",
			body: append(append([]byte(fmt.Sprintf("%x\r\n", len(smuggled))), smuggled...), "\r\n0\r\n\r\n"...)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// The hooks only observe: OnOpen runs inside Upgrade, on the
			// handler's goroutine, for every connection handed to serve.
			var opened atomic.Int32
			u := &Upgrader{Hooks: Hooks{OnOpen: func(*Conn) { opened.Add(1) }}}
			s := startAdvServer(t, u, echoUntilErr)
			req := append([]byte(handshakeRequest(tc.extra)), tc.body...)
			nc, br := rawExchange(t, s.addr, req)
			resp, err := http.ReadResponse(br, nil)
			require.NoError(t, err)
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
			if resp.StatusCode == http.StatusSwitchingProtocols {
				// Report what the server did with the body.
				rc := &rawClient{t: t, nc: nc, br: br}
				f, err := rc.read()
				if err == nil {
					t.Errorf("after the 101, the server sent opcode %v payload %q", f.h.Opcode, f.payload)
				}
				err, ok := s.nextEnded(t, 2*time.Second)
				t.Logf("serve ran; returned=%v err=%v", ok, err)
			} else {
				_, _ = io.Copy(io.Discard, resp.Body)
			}
			resp.Body.Close()
			assert.Zero(t, opened.Load(), "no connection may be upgraded")
			select {
			case <-s.started:
				t.Error("serve ran")
			default:
			}
		})
	}
}
