package websocket

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsup/websocket/frame"
	"github.com/wsup/websocket/internal/deflate"
)

func compressedPair(t testing.TB, p deflate.Params, threshold int) (server, client *Conn) {
	s, c := tcpPair(t)
	cp := &compressParams{params: p, level: defaultCompressionLevel, threshold: threshold}
	return newConn(s, connConfig{isServer: true, compress: cp}), newConn(c, connConfig{compress: cp})
}

func jsonLike(n int) []byte {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `{"id":%d,"name":"user-%d","tags":["a","b"],"active":true},`, i, i%17)
	}
	return []byte(b.String()[:n])
}

// TestCompressedRoundTrip echoes messages through compressed Conns for every
// window size and context takeover combination, through WriteMessage and
// NextWriter, with fragments.
func TestCompressedRoundTrip(t *testing.T) {
	for bits := 8; bits <= 15; bits++ {
		for _, takeover := range []bool{true, false} {
			t.Run(fmt.Sprintf("bits=%d/takeover=%v", bits, takeover), func(t *testing.T) {
				p := deflate.Params{ServerMaxWindowBits: bits, ClientMaxWindowBits: bits,
					ServerNoContextTakeover: !takeover, ClientNoContextTakeover: !takeover}
				sc, cc := compressedPair(t, p, 0)
				done := echoServer(sc)
				sizes := []int{0, 1, 200, 5000, 70000}
				if bits == 8 || bits == 15 {
					sizes = append(sizes, 1<<20)
				}
				for _, n := range sizes {
					checkEcho(t, cc, TextMessage, jsonLike(n), func(int) int { return 3000 })
				}
				require.NoError(t, cc.Close())
				assert.True(t, IsCloseError(waitErr(t, done), CloseNormalClosure))
			})
		}
	}
}

// deflateRaw compresses msg the way a client would (sync flush, tail
// stripped).
func deflateRaw(t testing.TB, msg []byte) []byte {
	var b bytes.Buffer
	fw, err := flate.NewWriter(&b, flate.BestSpeed)
	require.NoError(t, err)
	_, err = fw.Write(msg)
	require.NoError(t, err)
	require.NoError(t, fw.Flush())
	out := b.Bytes()
	require.True(t, bytes.HasSuffix(out, []byte{0, 0, 0xff, 0xff}))
	return out[:len(out)-4]
}

// TestCompressedViolations checks RFC 7692's framing rules and the limits on
// inflated data with a raw client.
func TestCompressedViolations(t *testing.T) {
	bomb := deflateRaw(t, make([]byte, 4<<20))
	cases := []struct {
		name    string
		frames  []rawFrame
		limit   int64
		code    int
		wantErr error
		echoes  int
	}{
		{name: "rsv1 on continuation", frames: []rawFrame{{op: frame.OpText, rsv: 0x40, payload: deflateRaw(t, []byte("ab"))}, {fin: true, rsv: 0x40, op: frame.OpContinuation}}, code: CloseProtocolError, wantErr: ErrProtocol},
		{name: "rsv1 on ping", frames: []rawFrame{{fin: true, rsv: 0x40, op: frame.OpPing}}, code: CloseProtocolError, wantErr: ErrProtocol},
		{name: "rsv2 with deflate", frames: []rawFrame{{fin: true, rsv: 0x20, op: frame.OpText}}, code: CloseProtocolError, wantErr: ErrProtocol},
		{name: "corrupt deflate data", frames: []rawFrame{{fin: true, rsv: 0x40, op: frame.OpBinary, payload: []byte{0xff, 0xff, 0xff, 0xff, 0x00}}}, code: CloseInvalidFramePayloadData, wantErr: ErrCompression},
		{name: "inflated text not utf8", frames: []rawFrame{{fin: true, rsv: 0x40, op: frame.OpText, payload: deflateRaw(t, []byte{'o', 'k', 0xff})}}, code: CloseInvalidFramePayloadData, wantErr: ErrInvalidUTF8},
		{name: "bomb over the read limit", limit: 1 << 20, frames: []rawFrame{{fin: true, rsv: 0x40, op: frame.OpBinary, payload: bomb}}, code: CloseMessageTooBig, wantErr: ErrReadLimit},
		{name: "ok then bomb", limit: 1 << 20, frames: []rawFrame{{fin: true, rsv: 0x40, op: frame.OpText, payload: deflateRaw(t, []byte("hi"))}, {fin: true, rsv: 0x40, op: frame.OpBinary, payload: bomb}}, code: CloseMessageTooBig, wantErr: ErrReadLimit, echoes: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, c := tcpPair(t)
			sc := newConn(s, connConfig{isServer: true, compress: &compressParams{
				params: deflate.Params{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}, level: 1, threshold: 1 << 30}})
			if tc.limit > 0 {
				sc.SetReadLimit(tc.limit)
			}
			done := echoServer(sc)
			rc := newRawClient(t, c)
			rc.send(tc.frames...)
			code, before := rc.expectClose()
			assert.Equal(t, tc.code, code)
			assert.Len(t, before, tc.echoes)
			assert.ErrorIs(t, waitErr(t, done), tc.wantErr)
		})
	}
}

// TestCompressedFromRawClient: fragmented compressed message, with a ping
// between fragments, from a client using compress/flate; and the threshold
// keeps small messages uncompressed.
func TestCompressedFromRawClient(t *testing.T) {
	s, c := tcpPair(t)
	sc := newConn(s, connConfig{isServer: true, compress: &compressParams{
		params: deflate.Params{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}, level: 1, threshold: 100}})
	done := echoServer(sc)
	rc := newRawClient(t, c)
	msg := jsonLike(3000)
	z := deflateRaw(t, msg)
	rc.send(rawFrame{op: frame.OpText, rsv: 0x40, payload: z[:10]},
		rawFrame{fin: true, op: frame.OpPing, payload: []byte("p")},
		rawFrame{op: frame.OpContinuation, payload: z[10:20]},
		rawFrame{fin: true, op: frame.OpContinuation, payload: z[20:]})
	f, err := rc.read()
	require.NoError(t, err)
	assert.Equal(t, frame.OpPong, f.h.Opcode)
	f, err = rc.read()
	require.NoError(t, err)
	assert.True(t, f.h.Rsv1, "3000 bytes is over the threshold")
	got, err := io.ReadAll(flate.NewReader(io.MultiReader(bytes.NewReader(f.payload), bytes.NewReader([]byte{0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff}))))
	require.NoError(t, err)
	assert.Equal(t, msg, got)

	rc.send(rawFrame{fin: true, op: frame.OpText, payload: []byte("short")})
	f, err = rc.read()
	require.NoError(t, err)
	assert.False(t, f.h.Rsv1, "under the threshold")
	assert.Equal(t, "short", string(f.payload))

	sc.EnableWriteCompression(false)
	rc.send(rawFrame{fin: true, op: frame.OpText, payload: msg})
	f, err = rc.read()
	require.NoError(t, err)
	assert.False(t, f.h.Rsv1, "compression turned off")
	assert.Equal(t, msg, f.payload)
	rc.send(rawFrame{fin: true, op: frame.OpClose})
	rc.expectClose()
	waitErr(t, done)
}

// TestContextTakeoverSavesBytes: a takeover session sends fewer bytes than
// a no-takeover one on repetitive JSON.
func TestContextTakeoverSavesBytes(t *testing.T) {
	wire := func(takeover bool) int {
		s, c := tcpPair(t)
		sc := newConn(s, connConfig{isServer: true, compress: &compressParams{
			params: deflate.Params{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15, ServerNoContextTakeover: !takeover}, level: 1}})
		rc := newRawClient(t, c)
		total := 0
		for i := 0; i < 20; i++ {
			require.NoError(t, sc.WriteMessage(TextMessage, jsonLike(2000)))
			f, err := rc.read()
			require.NoError(t, err)
			total += len(f.payload)
		}
		return total
	}
	with, without := wire(true), wire(false)
	t.Logf("20 × 2000 B JSON: %d bytes with context takeover, %d without", with, without)
	assert.Less(t, with, without)
}

// TestDialerCompression: our Dialer and Upgrader negotiate deflate with
// every server option, and messages cross both ways compressed.
func TestDialerCompression(t *testing.T) {
	for _, opts := range []*CompressionOptions{nil, {ServerNoContextTakeover: true}, {ClientNoContextTakeover: true, Level: 9, Threshold: -1}} {
		up := Upgrader{EnableCompression: true, Compression: opts}
		srv := httptest.NewServer(up.Handler(func(c *Conn) {
			for {
				mt, p, err := c.ReadMessage()
				if err != nil {
					return
				}
				if err := c.WriteMessage(mt, p); err != nil {
					return
				}
			}
		}))
		d := Dialer{EnableCompression: true}
		c, resp, err := d.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
		require.NoError(t, err)
		assert.Contains(t, resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate")
		require.NotNil(t, c.compress)
		for _, n := range []int{10, 600, 100000} {
			msg := jsonLike(n)
			require.NoError(t, c.WriteMessage(TextMessage, msg))
			_, got, err := c.ReadMessage()
			require.NoError(t, err)
			assert.Equal(t, msg, got)
		}
		require.NoError(t, c.Close())
		srv.Close()
	}
	// A server answering with an extension we did not offer is refused.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nc, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer nc.Close()
		key := r.Header.Get("Sec-WebSocket-Key")
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
			computeAcceptKey(key) + "\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n")
		_ = brw.Flush()
	}))
	defer srv.Close()
	d := Dialer{EnableCompression: true}
	_, _, err := d.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	assert.ErrorIs(t, err, ErrBadHandshake)
}

// TestUpgraderCompression: the Upgrader negotiates permessage-deflate and
// the connection then compresses.
func TestUpgraderCompression(t *testing.T) {
	up := Upgrader{EnableCompression: true, Compression: &CompressionOptions{Threshold: -1}}
	srv := httptest.NewServer(up.Handler(func(c *Conn) {
		for {
			mt, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			_ = c.WriteMessage(mt, p)
		}
	}))
	defer srv.Close()
	rc := rawDial(t, srv, "x-unknown, permessage-deflate; server_max_window_bits=10; client_no_context_takeover")
	msg := strings.Repeat("compress me ", 50)
	rc.send(rawFrame{fin: true, rsv: 0x40, op: frame.OpText, payload: deflateRaw(t, []byte(msg))})
	f, err := rc.read()
	require.NoError(t, err)
	assert.True(t, f.h.Rsv1)
	assert.Less(t, len(f.payload), len(msg))
}

// TestServerRequiresClientNoContextTakeover: with ClientNoContextTakeover the
// server answers client_no_context_takeover to an offer that did not
// include it, our client then compresses without history, and the server
// keeps no window for the client's messages; without the option it keeps
// one.
func TestServerRequiresClientNoContextTakeover(t *testing.T) {
	for _, require_ := range []bool{true, false} {
		t.Run(fmt.Sprintf("require=%t", require_), func(t *testing.T) {
			up := Upgrader{EnableCompression: true, Compression: &CompressionOptions{ClientNoContextTakeover: require_}}
			kept := make(chan int, 1)
			srv := httptest.NewServer(up.Handler(func(c *Conn) {
				for i := 0; ; i++ {
					mt, p, err := c.ReadMessage()
					if err != nil {
						return
					}
					if i == 1 {
						c.readMu.Lock()
						kept <- c.readDecomp.Kept()
						c.readMu.Unlock()
					}
					if err := c.WriteMessage(mt, p); err != nil {
						return
					}
				}
			}))
			defer srv.Close()

			// A raw offer without client_no_context_takeover.
			p, resp, ok := deflate.Negotiate([]string{"permessage-deflate"}, deflate.ServerConfig{DisableClientContextTakeover: require_})
			require.True(t, ok)
			assert.Equal(t, require_, p.ClientNoContextTakeover)
			assert.Equal(t, require_, strings.Contains(resp, "client_no_context_takeover"), resp)

			c, hresp, err := (&Dialer{EnableCompression: true}).Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
			require.NoError(t, err)
			defer c.Close()
			assert.Equal(t, require_, strings.Contains(hresp.Header.Get("Sec-WebSocket-Extensions"), "client_no_context_takeover"))
			msg := jsonLike(4000)
			for range 2 {
				require.NoError(t, c.WriteMessage(TextMessage, msg))
				_, got, err := c.ReadMessage()
				require.NoError(t, err)
				require.Equal(t, msg, got)
			}
			require.NoError(t, c.lockMsg(nil))
			assert.Equal(t, !require_, c.writeComp.KeepsHistory(), "the client keeps history only when allowed")
			c.unlockMsg()
			if require_ {
				assert.Zero(t, <-kept, "no window kept for a client without context takeover")
			} else {
				assert.Equal(t, 2*len(msg), <-kept, "the window grows with what the client sent")
			}
		})
	}
}
