package websocket

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testIOTimeout bounds network operations in tests so that a bug fails the
// test instead of hanging it. No assertion depends on it.
const testIOTimeout = 10 * time.Second

// upgradeResult is what a test server's handler saw.
type upgradeResult struct {
	conn *Conn
	nc   net.Conn
	cfg  connConfig
	err  error
	// early holds the bytes read from cfg.br inside newConn, when asked.
	early []byte
}

// upgradeServer starts an httptest server on 127.0.0.1 whose handler runs
// u.Upgrade (through wrap, when non-nil) and reports on the returned channel.
// When readEarly > 0, that many bytes are read from cfg.br inside the hook.
func upgradeServer(t *testing.T, u *Upgrader, respHeader http.Header, wrap func(http.ResponseWriter) http.ResponseWriter, readEarly int) (addr string, results <-chan upgradeResult) {
	t.Helper()
	ch := make(chan upgradeResult, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var res upgradeResult
		uu := *u
		connHooks.Store(&uu, func(nc net.Conn, cfg connConfig) *Conn {
			res.nc, res.cfg = nc, cfg
			if readEarly > 0 && cfg.br != nil {
				_ = nc.SetReadDeadline(time.Now().Add(testIOTimeout))
				res.early = make([]byte, readEarly)
				n, _ := io.ReadFull(cfg.br, res.early)
				res.early = res.early[:n]
				_ = nc.SetReadDeadline(time.Time{})
			}
			return newConn(nc, cfg)
		})
		defer connHooks.Delete(&uu)
		if wrap != nil {
			w = wrap(w)
		}
		res.conn, res.err = uu.Upgrade(w, r, respHeader)
		ch <- res
	}))
	t.Cleanup(srv.Close)
	require.True(t, strings.HasPrefix(srv.Listener.Addr().String(), "127.0.0.1:"))
	return srv.Listener.Addr().String(), ch
}

// rawExchange dials addr, writes req in one write, and returns the client
// connection and a reader positioned at the response.
func rawExchange(t *testing.T, addr string, req []byte) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, testIOTimeout)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	require.NoError(t, c.SetDeadline(time.Now().Add(testIOTimeout)))
	n, err := c.Write(req)
	require.NoError(t, err)
	require.Equal(t, len(req), n)
	return c, bufio.NewReader(c)
}

// readResponseHead reads up to and including the blank line ending the
// response head.
func readResponseHead(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	var sb strings.Builder
	for i := 0; i < 100; i++ {
		line, err := br.ReadString('\n')
		require.NoError(t, err, "read so far: %q", sb.String())
		sb.WriteString(line)
		if line == "\r\n" {
			return sb.String()
		}
	}
	t.Fatalf("response head too long: %q", sb.String())
	return ""
}

func handshakeRequest(extra string) string {
	return "GET /ws HTTP/1.1\r\n" +
		"Host: 127.0.0.1\r\n" +
		"Connection: keep-alive, Upgrade\r\n" +
		"Upgrade: websocket\r\n" +
		"Sec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Key: " + rfcSampleKey + "\r\n" +
		extra + "\r\n"
}

func waitResult(t *testing.T, ch <-chan upgradeResult) upgradeResult {
	t.Helper()
	select {
	case res := <-ch:
		if res.nc != nil {
			t.Cleanup(func() { res.nc.Close() })
		}
		return res
	case <-time.After(testIOTimeout):
		t.Fatal("handler did not finish")
		return upgradeResult{}
	}
}

func TestUpgradeOverTCP(t *testing.T) {
	cases := []struct {
		name         string
		upgrader     Upgrader
		reqExtra     string
		respHeader   http.Header
		wantHead     string
		wantProto    string
		wantCompress bool
	}{
		{
			name:     "no subprotocol",
			wantHead: "",
		},
		{
			name:      "negotiated subprotocol",
			upgrader:  Upgrader{Subprotocols: []string{"mqtt", "chat"}},
			reqExtra:  "Sec-WebSocket-Protocol: superchat, chat\r\nSec-WebSocket-Protocol: mqtt\r\n",
			wantHead:  "Sec-WebSocket-Protocol: mqtt\r\n",
			wantProto: "mqtt",
		},
		{
			name:       "subprotocol from responseHeader and extra headers",
			upgrader:   Upgrader{Subprotocols: []string{"chat"}, HandshakeTimeout: testIOTimeout},
			reqExtra:   "Sec-WebSocket-Protocol: chat, superchat\r\n",
			respHeader: http.Header{"Sec-Websocket-Protocol": {"superchat"}, "Set-Cookie": {"id=1"}},
			wantHead:   "Sec-WebSocket-Protocol: superchat\r\nSet-Cookie: id=1\r\n",
			wantProto:  "superchat",
		},
		{
			name:         "compression negotiated",
			upgrader:     Upgrader{EnableCompression: true},
			reqExtra:     "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n",
			wantHead:     "Sec-WebSocket-Extensions: permessage-deflate\r\n",
			wantCompress: true,
		},
		{
			name:     "compression offered but not enabled",
			reqExtra: "Sec-WebSocket-Extensions: permessage-deflate\r\n",
			wantHead: "",
		},
		{
			name:     "same origin",
			reqExtra: "Origin: http://127.0.0.1\r\n",
			wantHead: "",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := tc.upgrader
			u.ReadBufferSize, u.WriteBufferSize = 1024, 2048
			addr, results := upgradeServer(t, &u, tc.respHeader, nil, 0)
			_, br := rawExchange(t, addr, []byte(handshakeRequest(tc.reqExtra)))

			head := readResponseHead(t, br)
			assert.Equal(t, "HTTP/1.1 101 Switching Protocols\r\n"+
				"Upgrade: websocket\r\n"+
				"Connection: Upgrade\r\n"+
				"Sec-WebSocket-Accept: "+rfcSampleAccept+"\r\n"+
				tc.wantHead+"\r\n", head)
			assert.Zero(t, br.Buffered(), "nothing after the response head")

			res := waitResult(t, results)
			require.NoError(t, res.err)
			require.NotNil(t, res.conn)
			assert.True(t, res.cfg.isServer)
			assert.Equal(t, tc.wantProto, res.cfg.subprotocol)
			assert.Equal(t, 1024, res.cfg.readBufferSize)
			assert.Equal(t, 2048, res.cfg.writeBufferSize)
			assert.NotNil(t, res.cfg.br)
			assert.Equal(t, tc.wantCompress, res.cfg.compress != nil)
		})
	}
}

func TestUpgradeKeepsBufferedFrame(t *testing.T) {
	// A masked text frame "hello" (RFC 6455 section 5.7), sent in the same
	// write as the handshake request.
	frame := []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}
	addr, results := upgradeServer(t, &Upgrader{}, nil, nil, len(frame))
	req := append([]byte(handshakeRequest("")), frame...)
	_, br := rawExchange(t, addr, req)
	readResponseHead(t, br)

	res := waitResult(t, results)
	require.NoError(t, res.err)
	require.NotNil(t, res.cfg.br)
	assert.Equal(t, frame, res.early, "bytes sent with the request reach the Conn through cfg.br")
}

// unwrapWriter is a middleware ResponseWriter that hides Hijack but exposes
// the writer it wraps through Unwrap.
type unwrapWriter struct {
	http.ResponseWriter
}

func (w unwrapWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// opaqueWriter is a middleware ResponseWriter that hides Hijack and offers
// no Unwrap.
type opaqueWriter struct {
	http.ResponseWriter
}

func TestUpgradeThroughMiddleware(t *testing.T) {
	t.Run("Unwrap", func(t *testing.T) {
		wrap := func(w http.ResponseWriter) http.ResponseWriter { return unwrapWriter{w} }
		addr, results := upgradeServer(t, &Upgrader{}, nil, wrap, 0)
		_, br := rawExchange(t, addr, []byte(handshakeRequest("")))
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		assert.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
		assert.Equal(t, rfcSampleAccept, resp.Header.Get("Sec-WebSocket-Accept"))
		res := waitResult(t, results)
		require.NoError(t, res.err)
		assert.NotNil(t, res.conn)
	})
	t.Run("no Unwrap", func(t *testing.T) {
		wrap := func(w http.ResponseWriter) http.ResponseWriter { return opaqueWriter{w} }
		addr, results := upgradeServer(t, &Upgrader{}, nil, wrap, 0)
		_, br := rawExchange(t, addr, []byte(handshakeRequest("")))
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
		res := waitResult(t, results)
		assert.ErrorIs(t, res.err, ErrHijackUnsupported)
		assert.ErrorIs(t, res.err, http.ErrNotSupported)
		assert.Nil(t, res.conn)
	})
}

func TestUpgradeRejectionOverTCP(t *testing.T) {
	// net/http must put the protocol headers of a refusal on the wire.
	cases := []struct {
		name   string
		req    string
		status int
		header map[string]string
	}{
		{
			name:   "browser GET",
			req:    "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/html\r\n\r\n",
			status: http.StatusUpgradeRequired,
			header: map[string]string{"Upgrade": "websocket", "Connection": "Upgrade"},
		},
		{
			name:   "old version",
			req:    strings.Replace(handshakeRequest(""), "Version: 13", "Version: 8", 1),
			status: http.StatusUpgradeRequired,
			header: map[string]string{"Sec-WebSocket-Version": "13"},
		},
		{
			name:   "POST",
			req:    strings.Replace(handshakeRequest(""), "GET", "POST", 1),
			status: http.StatusMethodNotAllowed,
			header: map[string]string{"Allow": "GET"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr, results := upgradeServer(t, &Upgrader{}, nil, nil, 0)
			_, br := rawExchange(t, addr, []byte(tc.req))
			resp, err := http.ReadResponse(br, nil)
			require.NoError(t, err)
			defer resp.Body.Close()
			assert.Equal(t, tc.status, resp.StatusCode)
			for k, v := range tc.header {
				assert.Equal(t, v, resp.Header.Get(k), "header %s", k)
			}
			res := waitResult(t, results)
			var he HandshakeError
			require.ErrorAs(t, res.err, &he)
			assert.Equal(t, tc.status, he.Status)
		})
	}
}
