package websocket

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeConn is a net.Conn that records what the upgrader does with it.
type fakeConn struct {
	mu             sync.Mutex
	out            bytes.Buffer
	writeErr       error
	deadlineErr    error
	writeDLErr     error // returned by SetWriteDeadline
	writeDLErrZero bool  // only when clearing
	calls          []string
	writeDeadlines []time.Time
	closes         int
}

func (c *fakeConn) Read([]byte) (int, error) { return 0, io.EOF }
func (c *fakeConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, "Write")
	if c.writeErr != nil {
		return 0, c.writeErr
	}
	return c.out.Write(p)
}
func (c *fakeConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closes++
	return nil
}
func (c *fakeConn) LocalAddr() net.Addr  { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }
func (c *fakeConn) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2} }
func (c *fakeConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, "SetDeadline")
	if !t.IsZero() {
		return errors.New("fakeConn: unexpected non-zero deadline")
	}
	return c.deadlineErr
}
func (c *fakeConn) SetReadDeadline(time.Time) error { return errors.New("fakeConn: unexpected call") }
func (c *fakeConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, "SetWriteDeadline")
	c.writeDeadlines = append(c.writeDeadlines, t)
	if c.writeDLErr != nil && (!c.writeDLErrZero || t.IsZero()) {
		return c.writeDLErr
	}
	return nil
}

// hijackWriter is a ResponseWriter whose Hijack returns fixed values.
type hijackWriter struct {
	*httptest.ResponseRecorder
	conn net.Conn
	brw  *bufio.ReadWriter
	err  error
}

func (w *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) { return w.conn, w.brw, w.err }

func TestUpgradeAfterHijack(t *testing.T) {
	errIO := errors.New("boom")
	minimal := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + rfcSampleAccept + "\r\n\r\n"
	cases := []struct {
		name      string
		conn      *fakeConn
		pending   string // bytes already in the hijacked bufio.Writer
		noBRW     bool
		timeout   time.Duration
		wantErr   error
		wantCalls []string
		wantOut   string
	}{
		{
			name:      "success without timeout",
			conn:      &fakeConn{},
			wantCalls: []string{"SetDeadline", "Write"},
			wantOut:   minimal,
		},
		{
			name:      "success with timeout",
			conn:      &fakeConn{},
			timeout:   time.Hour,
			wantCalls: []string{"SetDeadline", "SetWriteDeadline", "Write", "SetWriteDeadline"},
			wantOut:   minimal,
		},
		{
			name:      "nil ReadWriter",
			conn:      &fakeConn{},
			noBRW:     true,
			wantCalls: []string{"SetDeadline", "Write"},
			wantOut:   minimal,
		},
		{
			name:      "pending writer bytes go first",
			conn:      &fakeConn{},
			pending:   "PENDING",
			wantCalls: []string{"SetDeadline", "Write", "Write"},
			wantOut:   "PENDING" + minimal,
		},
		{
			name:      "write fails",
			conn:      &fakeConn{writeErr: errIO},
			timeout:   time.Hour,
			wantErr:   errIO,
			wantCalls: []string{"SetDeadline", "SetWriteDeadline", "Write"},
		},
		{
			name:      "clearing deadlines fails",
			conn:      &fakeConn{deadlineErr: errIO},
			wantErr:   errIO,
			wantCalls: []string{"SetDeadline"},
		},
		{
			name:      "setting write deadline fails",
			conn:      &fakeConn{writeDLErr: errIO},
			timeout:   time.Hour,
			wantErr:   errIO,
			wantCalls: []string{"SetDeadline", "SetWriteDeadline"},
		},
		{
			name:      "clearing write deadline fails",
			conn:      &fakeConn{writeDLErr: errIO, writeDLErrZero: true},
			timeout:   time.Hour,
			wantErr:   errIO,
			wantCalls: []string{"SetDeadline", "SetWriteDeadline", "Write", "SetWriteDeadline"},
			wantOut:   minimal,
		},
		{
			name:      "flushing pending bytes fails",
			conn:      &fakeConn{writeErr: errIO},
			pending:   "PENDING",
			wantErr:   errIO,
			wantCalls: []string{"SetDeadline", "Write"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			early := "early frame bytes"
			var brw *bufio.ReadWriter
			if !tc.noBRW {
				brw = bufio.NewReadWriter(bufio.NewReader(strings.NewReader(early)), bufio.NewWriter(tc.conn))
				_, err := brw.Writer.WriteString(tc.pending)
				require.NoError(t, err)
			}
			w := &hijackWriter{ResponseRecorder: httptest.NewRecorder(), conn: tc.conn, brw: brw}
			var gotCfg *connConfig
			u := &Upgrader{HandshakeTimeout: tc.timeout}
			setConnHook(t, u, func(nc net.Conn, cfg connConfig) *Conn {
				assert.Same(t, tc.conn, nc)
				gotCfg = &cfg
				return newConn(nc, cfg)
			})
			before := time.Now()
			c, err := u.Upgrade(w, newHandshakeRequest(), nil)

			assert.Equal(t, tc.wantCalls, tc.conn.calls)
			assert.Equal(t, tc.wantOut, tc.conn.out.String())
			assert.False(t, w.Flushed)
			assert.Zero(t, w.Body.Len(), "nothing written through the ResponseWriter after the hijack")
			if tc.timeout > 0 {
				require.NotEmpty(t, tc.conn.writeDeadlines)
				assert.False(t, tc.conn.writeDeadlines[0].Before(before.Add(tc.timeout)), "deadline is now+HandshakeTimeout")
				if len(tc.conn.writeDeadlines) > 1 {
					assert.True(t, tc.conn.writeDeadlines[1].IsZero(), "deadline cleared")
				}
			}
			if tc.wantErr != nil {
				assert.ErrorIs(t, err, tc.wantErr)
				var he HandshakeError
				assert.False(t, errors.As(err, &he), "no HTTP status was answered")
				assert.Nil(t, c)
				assert.Nil(t, gotCfg, "no Conn made")
				assert.Equal(t, 1, tc.conn.closes, "connection closed on error")
				return
			}
			require.NoError(t, err)
			assert.NotNil(t, c)
			assert.Zero(t, tc.conn.closes, "connection left open on success")
			require.NotNil(t, gotCfg)
			if tc.noBRW {
				assert.Nil(t, gotCfg.br)
				return
			}
			require.NotNil(t, gotCfg.br)
			rest, err := io.ReadAll(gotCfg.br)
			require.NoError(t, err)
			assert.Equal(t, early, string(rest), "the hijacked reader is handed over")
		})
	}
}

func TestUpgradeHijackErrors(t *testing.T) {
	errOther := errors.New("middleware refused")
	cases := []struct {
		name         string
		hijackErr    error
		conn         net.Conn
		wantStatus   int // 0: nothing answered, error is not a HandshakeError
		wantSentinel error
	}{
		{"not supported", http.ErrNotSupported, nil, http.StatusInternalServerError, ErrHijackUnsupported},
		{"other error", errOther, nil, http.StatusInternalServerError, errOther},
		{"already hijacked", http.ErrHijacked, nil, 0, http.ErrHijacked},
		{"nil conn without error", nil, nil, 0, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := &hijackWriter{ResponseRecorder: httptest.NewRecorder(), conn: tc.conn, err: tc.hijackErr}
			c, err := (&Upgrader{}).Upgrade(w, newHandshakeRequest(), nil)
			assert.Nil(t, c)
			require.Error(t, err)
			if tc.wantSentinel != nil {
				assert.ErrorIs(t, err, tc.wantSentinel)
			}
			var he HandshakeError
			if tc.wantStatus == 0 {
				assert.False(t, errors.As(err, &he))
				assert.Zero(t, w.Body.Len())
				return
			}
			require.ErrorAs(t, err, &he)
			assert.Equal(t, tc.wantStatus, he.Status)
			assert.Equal(t, tc.wantStatus, w.Code)
		})
	}
}

func TestUpgradeResponseAllocs(t *testing.T) {
	// Building the 101 response into the hijacked writer's buffer costs no
	// allocation.
	bw := bufio.NewWriter(io.Discard)
	resp := handshakeResponse{key: rfcSampleKey, subprotocol: "chat"}
	allocs := testing.AllocsPerRun(100, func() {
		buf := appendHandshakeResponse(bw.AvailableBuffer(), resp)
		_, _ = bw.Write(buf)
		_ = bw.Flush()
	})
	assert.Zero(t, allocs)
}

func TestUpgradeAllocs(t *testing.T) {
	// The handshake itself allocates nothing (the Conn aside, which the hook
	// supplies here); extra response headers cost one slice of keys.
	cases := []struct {
		name       string
		respHeader http.Header
		max        float64
	}{
		{"no extra headers", nil, 0},
		{"extra headers", http.Header{"Set-Cookie": {"a=1"}, "X-A": {"1"}}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newHandshakeRequest()
			r.Header.Set("Sec-WebSocket-Protocol", "superchat, chat")
			conn := &fakeConn{}
			brw := bufio.NewReadWriter(bufio.NewReader(strings.NewReader("")), bufio.NewWriter(conn))
			w := &hijackWriter{ResponseRecorder: httptest.NewRecorder(), conn: conn, brw: brw}
			c := &Conn{}
			u := &Upgrader{Subprotocols: []string{"chat"}, HandshakeTimeout: time.Hour}
			setConnHook(t, u, func(net.Conn, connConfig) *Conn { return c })
			var err error
			// Upgrade drops the hijacked writer's buffer after use, as
			// net/http never uses it again; every real hijack hands over
			// a writer with its buffer, so restore it each time.
			fresh := *brw.Writer
			allocs := testing.AllocsPerRun(100, func() {
				*brw.Writer = fresh
				conn.out.Reset()
				conn.calls = conn.calls[:0]
				conn.writeDeadlines = conn.writeDeadlines[:0]
				_, err = u.Upgrade(w, r, tc.respHeader)
			})
			require.NoError(t, err)
			assert.LessOrEqual(t, allocs, tc.max)
			assert.Contains(t, conn.out.String(), "Sec-WebSocket-Protocol: chat\r\n")
		})
	}
}

func BenchmarkUpgrade(b *testing.B) {
	b.ReportAllocs()
	u := &Upgrader{Subprotocols: []string{"chat"}}
	r := newHandshakeRequest()
	r.Header.Set("Sec-WebSocket-Protocol", "chat")
	conn := &fakeConn{}
	brw := bufio.NewReadWriter(bufio.NewReader(strings.NewReader("")), bufio.NewWriter(conn))
	w := &hijackWriter{ResponseRecorder: httptest.NewRecorder(), conn: conn, brw: brw}
	for i := 0; i < b.N; i++ {
		conn.out.Reset()
		conn.calls = conn.calls[:0]
		if _, err := u.Upgrade(w, r, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func TestAppendHandshakeResponse(t *testing.T) {
	resp := handshakeResponse{
		key:         rfcSampleKey,
		subprotocol: "chat",
		extensions:  "x-test",
		header:      http.Header{"X-B": {"2"}, "Set-Cookie": {"a=1", "b=2"}, "X-A": {"1"}},
		headerKeys:  []string{"X-B", "Set-Cookie", "X-A"},
	}
	want := "HTTP/1.1 101 Switching Protocols\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + rfcSampleAccept + "\r\n" +
		"Sec-WebSocket-Protocol: chat\r\n" +
		"Sec-WebSocket-Extensions: x-test\r\n" +
		"Set-Cookie: a=1\r\n" +
		"Set-Cookie: b=2\r\n" +
		"X-A: 1\r\n" +
		"X-B: 2\r\n" +
		"\r\n"
	assert.Equal(t, want, string(appendHandshakeResponse(nil, resp)))

	minimal := handshakeResponse{key: rfcSampleKey}
	assert.Equal(t, "HTTP/1.1 101 Switching Protocols\r\n"+
		"Upgrade: websocket\r\n"+
		"Connection: Upgrade\r\n"+
		"Sec-WebSocket-Accept: "+rfcSampleAccept+"\r\n\r\n",
		string(appendHandshakeResponse(nil, minimal)))
}

func FuzzHandshakeResponseHeader(f *testing.F) {
	for _, tc := range rejectionCases {
		for k, vs := range tc.respHeader {
			for _, v := range vs {
				f.Add(k, v, "")
			}
		}
	}
	f.Add("Set-Cookie", "a=1", "chat")
	f.Add("X-A", "v", "chat\r\nX-Injected: 1")
	f.Fuzz(func(t *testing.T, name, value, protocol string) {
		h := http.Header{name: {value}}
		if protocol != "" {
			h["Sec-Websocket-Protocol"] = []string{protocol}
		}
		r := newHandshakeRequest()
		resp, err := (&Upgrader{}).prepareResponse(r, h)
		if err != nil {
			assert.ErrorIs(t, err, ErrBadResponseHeader)
			return
		}
		resp.key = rfcSampleKey
		raw := string(appendHandshakeResponse(nil, resp))
		// Exactly the expected lines: the status line, three fixed headers,
		// the subprotocol (if any), the extra header (unless it is the
		// subprotocol) and the blank line.
		wantLines := 1 + 3 + 1
		if !asciiEqualFold(name, hdrWSProtocol) {
			wantLines++
		}
		if resp.subprotocol != "" {
			assert.Contains(t, []string{value, protocol}, resp.subprotocol)
			wantLines++
		}
		assert.Equal(t, wantLines, strings.Count(raw, "\n"), "%q", raw)
		assert.Equal(t, strings.Count(raw, "\n"), strings.Count(raw, "\r\n"), "%q", raw)
		assert.NotContains(t, raw, "\x00")
		parsed, err := http.ReadResponse(bufio.NewReader(strings.NewReader(raw)), nil)
		require.NoError(t, err, "%q", raw)
		assert.Equal(t, http.StatusSwitchingProtocols, parsed.StatusCode)
		assert.Equal(t, []string{rfcSampleAccept}, parsed.Header["Sec-Websocket-Accept"])
		assert.Equal(t, []string{"websocket"}, parsed.Header["Upgrade"])
	})
}

// TestHijackedWriterReleased: after the 101 is written, the buffer of
// net/http's connection writer (kept by net/http while the handler runs)
// is dropped.
func TestHijackedWriterReleased(t *testing.T) {
	r := newHandshakeRequest()
	conn := &fakeConn{}
	brw := bufio.NewReadWriter(bufio.NewReader(strings.NewReader("")), bufio.NewWriter(conn))
	w := &hijackWriter{ResponseRecorder: httptest.NewRecorder(), conn: conn, brw: brw}
	u := &Upgrader{}
	setConnHook(t, u, func(net.Conn, connConfig) *Conn { return &Conn{} })
	_, err := u.Upgrade(w, r, nil)
	require.NoError(t, err)
	assert.Contains(t, conn.out.String(), "101 Switching Protocols")
	assert.Zero(t, brw.Writer.Size(), "the hijacked writer still holds its buffer")
}
