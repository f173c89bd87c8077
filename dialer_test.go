package websocket

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dialTestTimeout bounds every wait in the dialer tests; reaching it is a
// failure, never an expected outcome.
const dialTestTimeout = 10 * time.Second

// dialEchoServer starts an httptest server (TLS when secure) whose handler
// upgrades with up and echoes every message until the connection ends.
func dialEchoServer(t *testing.T, up *Upgrader, secure bool) *httptest.Server {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			if err := c.SetReadDeadline(time.Now().Add(dialTestTimeout)); err != nil {
				return
			}
			mt, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(mt, p); err != nil {
				return
			}
		}
	})
	var srv *httptest.Server
	if secure {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	return srv
}

// dialTLSConfig returns a client TLS config trusting srv's certificate.
func dialTLSConfig(t *testing.T, srv *httptest.Server) *tls.Config {
	t.Helper()
	tr, ok := srv.Client().Transport.(*http.Transport)
	require.True(t, ok)
	return tr.TLSClientConfig.Clone()
}

// dialEchoCases are the messages the echo tests send.
var dialEchoCases = []struct {
	name string
	mt   int
	data []byte
}{
	{"empty text", TextMessage, []byte{}},
	{"short text", TextMessage, []byte("héllo, wörld")},
	{"long text", TextMessage, bytes.Repeat([]byte("é"), 40000)},
	{"binary", BinaryMessage, []byte{0, 1, 2, 0xff, 0xfe}},
	{"long binary", BinaryMessage, bytes.Repeat([]byte{0x00, 0x81, 0xff}, 30000)},
}

func TestDialEcho(t *testing.T) {
	for _, scheme := range []string{"ws", "http", "wss", "https"} {
		t.Run(scheme, func(t *testing.T) {
			secure := scheme == "wss" || scheme == "https"
			srv := dialEchoServer(t, &Upgrader{}, secure)
			d := &Dialer{HandshakeTimeout: dialTestTimeout}
			if secure {
				d.TLSClientConfig = dialTLSConfig(t, srv)
			}
			c, resp, err := d.Dial(scheme+"://"+srv.Listener.Addr().String()+"/echo", nil)
			require.NoError(t, err)
			defer c.Close()
			assert.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
			assert.Equal(t, "", c.Subprotocol())
			_, isTLS := c.NetConn().(*tls.Conn)
			assert.Equal(t, secure, isTLS)
			for _, tc := range dialEchoCases {
				require.NoError(t, c.WriteMessage(tc.mt, tc.data), tc.name)
				mt, p, err := c.ReadMessage()
				require.NoError(t, err, tc.name)
				assert.Equal(t, tc.mt, mt, tc.name)
				assert.Equal(t, tc.data, p, tc.name)
			}
		})
	}
}

// TestDialTLSOptions checks that the Dialer's TLS config is not modified,
// that ServerName defaults to the URL host, and that h2 is never offered
// even when the config lists it and the server supports it.
func TestDialTLSOptions(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := (&Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(dialTestTimeout))
		_, _, _ = c.ReadMessage()
	}))
	sni := make(chan string, 2)
	srv.TLS = &tls.Config{NextProtos: []string{"h2", "http/1.1"}, GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		sni <- hello.ServerName
		return nil, nil
	}}
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()

	cfg := dialTLSConfig(t, srv)
	cfg.NextProtos = []string{"h2", "http/1.1"}
	d := &Dialer{TLSClientConfig: cfg, HandshakeTimeout: dialTestTimeout}
	c, _, err := d.Dial("wss://"+srv.Listener.Addr().String(), nil)
	require.NoError(t, err)
	assert.Equal(t, "", <-sni, "an IP address is not sent in SNI")
	tc, ok := c.NetConn().(*tls.Conn)
	require.True(t, ok)
	state := tc.ConnectionState()
	assert.Equal(t, "http/1.1", state.NegotiatedProtocol)
	assert.Equal(t, []string{"h2", "http/1.1"}, cfg.NextProtos, "caller's config modified")
	assert.Equal(t, "", cfg.ServerName, "caller's config modified")
	require.NoError(t, c.Close())

	// ServerName comes from the URL host: the certificate is valid for
	// example.com, which the server sees in SNI.
	d.NetDialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var nd net.Dialer
		return nd.DialContext(ctx, network, srv.Listener.Addr().String())
	}
	c, _, err = d.Dial("wss://example.com/", nil)
	require.NoError(t, err)
	assert.Equal(t, "example.com", <-sni)
	require.NoError(t, c.Close())

	// Without the server's root, the certificate is refused.
	_, _, err = (&Dialer{HandshakeTimeout: dialTestTimeout}).Dial("wss://"+srv.Listener.Addr().String(), nil)
	var unknown x509.UnknownAuthorityError
	assert.ErrorAs(t, err, &unknown)
}

func TestDialSubprotocols(t *testing.T) {
	cases := []struct {
		name   string
		server []string
		client []string
		header string // Sec-WebSocket-Protocol in requestHeader
		want   string
	}{
		{"first common", []string{"superchat", "chat"}, []string{"chat", "superchat"}, "", "superchat"},
		{"none common", []string{"other"}, []string{"chat"}, "", ""},
		{"client requests none", []string{"chat"}, nil, "", ""},
		{"server supports none", nil, []string{"chat"}, "", ""},
		{"from request header", []string{"b"}, nil, "a, b", "b"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := dialEchoServer(t, &Upgrader{Subprotocols: tc.server}, false)
			d := &Dialer{Subprotocols: tc.client, HandshakeTimeout: dialTestTimeout}
			var h http.Header
			if tc.header != "" {
				h = http.Header{"Sec-WebSocket-Protocol": {tc.header}}
			}
			c, resp, err := d.Dial("ws://"+srv.Listener.Addr().String(), h)
			require.NoError(t, err)
			defer c.Close()
			assert.Equal(t, tc.want, c.Subprotocol())
			assert.Equal(t, tc.want, resp.Header.Get("Sec-WebSocket-Protocol"))
		})
	}
}

// TestDialRequest checks the handshake request the server receives.
func TestDialRequest(t *testing.T) {
	cases := []struct {
		name      string
		path      string
		header    http.Header
		protocols []string
		wantURI   string
		wantHost  string // "" for the listener address
		wantProto string
		check     map[string]string
	}{
		{"plain", "", nil, nil, "/", "", "", nil},
		{"path and query, fragment dropped", "/a/b?x=1&y=%20#frag", nil, nil, "/a/b?x=1&y=%20", "", "", nil},
		{"extra headers", "/", http.Header{"Origin": {"http://example.com"}, "X-Token": {"t1"}}, nil, "/", "", "",
			map[string]string{"Origin": "http://example.com", "X-Token": "t1"}},
		{"host override", "/", http.Header{"Host": {"example.com:1234"}}, nil, "/", "example.com:1234", "", nil},
		{"subprotocols", "/", nil, []string{"chat", "v2.chat"}, "/", "", "chat, v2.chat", nil},
		{"subprotocols in header", "/", http.Header{"Sec-Websocket-Protocol": {"x, y"}}, nil, "/", "", "x, y", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr, res := startDialScript(t, true, func(r *http.Request) []byte {
				return []byte("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
			})
			d := &Dialer{Subprotocols: tc.protocols, HandshakeTimeout: dialTestTimeout}
			_, resp, err := d.Dial("ws://"+addr+tc.path, tc.header)
			require.ErrorIs(t, err, ErrBadHandshake)
			require.Equal(t, http.StatusNotFound, resp.StatusCode)
			r := awaitScript(t, res)
			require.NoError(t, r.err)
			req := r.req
			assert.Equal(t, http.MethodGet, req.Method)
			assert.Equal(t, tc.wantURI, req.RequestURI)
			wantHost := tc.wantHost
			if wantHost == "" {
				wantHost = addr
			}
			assert.Equal(t, wantHost, req.Host)
			assert.Equal(t, "HTTP/1.1", req.Proto)
			assert.Equal(t, []string{"websocket"}, req.Header["Upgrade"])
			assert.Equal(t, []string{"Upgrade"}, req.Header["Connection"])
			assert.Equal(t, []string{"13"}, req.Header["Sec-Websocket-Version"])
			require.Len(t, req.Header["Sec-Websocket-Key"], 1)
			assert.True(t, checkClientKey(req.Header.Get("Sec-WebSocket-Key")))
			assert.Equal(t, tc.wantProto, req.Header.Get("Sec-WebSocket-Protocol"))
			assert.Empty(t, req.Header["Sec-Websocket-Extensions"])
			for k, v := range tc.check {
				assert.Equal(t, v, req.Header.Get(k), k)
			}
		})
	}
}

// TestDialKeysDiffer checks that each dial sends a fresh random key.
func TestDialKeysDiffer(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 8; i++ {
		cr, err := newClientRequest("ws://example.com", nil, nil)
		require.NoError(t, err)
		assert.True(t, checkClientKey(cr.key))
		assert.False(t, seen[cr.key], "key repeated")
		seen[cr.key] = true
	}
}

// dialRecorder is a NetDialContext that records the address and fails with
// errDialRecorded.
type dialRecorder struct {
	mu    sync.Mutex
	addrs []string
}

var errDialRecorded = errors.New("dial recorded")

func (r *dialRecorder) dial(_ context.Context, network, addr string) (net.Conn, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.addrs = append(r.addrs, network+" "+addr)
	return nil, errDialRecorded
}

func TestDialURLs(t *testing.T) {
	cases := []struct {
		url  string
		addr string // "" when the URL is refused
	}{
		{"ws://example.com", "example.com:80"},
		{"WS://example.com/chat", "example.com:80"},
		{"wss://example.com/path?q=1", "example.com:443"},
		{"http://example.com:8080", "example.com:8080"},
		{"https://EXAMPLE.com", "EXAMPLE.com:443"},
		{"ws://[::1]/x", "[::1]:80"},
		{"wss://[::1]:9000", "[::1]:9000"},
		{"ws://127.0.0.1:1#frag", "127.0.0.1:1"},
		{"ftp://example.com", ""},
		{"example.com", ""},
		{"", ""},
		{"ws://", ""},
		{"ws:example.com", ""},
		{"ws://user:pw@example.com", ""},
		{"ws://example.com:port", ""},
		{"ws://%zz", ""},
		{"ws://:80", ""},
	}
	for _, tc := range cases {
		t.Run(tc.url, func(t *testing.T) {
			var rec dialRecorder
			d := &Dialer{NetDialContext: rec.dial}
			c, resp, err := d.Dial(tc.url, nil)
			assert.Nil(t, c)
			assert.Nil(t, resp)
			if tc.addr == "" {
				assert.ErrorIs(t, err, errMalformedURL)
				assert.Empty(t, rec.addrs)
				return
			}
			assert.ErrorIs(t, err, errDialRecorded)
			assert.Equal(t, []string{"tcp " + tc.addr}, rec.addrs)
		})
	}
}

func TestDialBadRequestHeader(t *testing.T) {
	cases := []struct {
		name      string
		header    http.Header
		protocols []string
	}{
		{"Upgrade", http.Header{"Upgrade": {"websocket"}}, nil},
		{"Connection", http.Header{"Connection": {"Upgrade"}}, nil},
		{"Sec-WebSocket-Key", http.Header{"Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}}, nil},
		{"Sec-WebSocket-Version", http.Header{"Sec-Websocket-Version": {"13"}}, nil},
		{"Sec-WebSocket-Extensions", http.Header{"Sec-Websocket-Extensions": {"permessage-deflate"}}, nil},
		{"non-canonical reserved name", http.Header{"upgrade": {"websocket"}}, nil},
		{"protocol twice", http.Header{"Sec-Websocket-Protocol": {"a"}}, []string{"b"}},
		{"protocol not a token", http.Header{"Sec-Websocket-Protocol": {"a, b c"}}, nil},
		{"empty protocol element", http.Header{"Sec-Websocket-Protocol": {"a,,b"}}, nil},
		{"Subprotocols entry not a token", nil, []string{"ok", "not ok"}},
		{"empty Subprotocols entry", nil, []string{""}},
		{"bad name", http.Header{"Bad Name": {"v"}}, nil},
		{"CRLF in value", http.Header{"X-A": {"v\r\nX-Injected: 1"}}, nil},
		{"NUL in value", http.Header{"X-A": {"v\x00"}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var rec dialRecorder
			d := &Dialer{NetDialContext: rec.dial, Subprotocols: tc.protocols}
			c, resp, err := d.Dial("ws://example.com", tc.header)
			assert.Nil(t, c)
			assert.Nil(t, resp)
			assert.ErrorIs(t, err, errBadRequestHeader)
			assert.Empty(t, rec.addrs, "dialed despite a bad header")
		})
	}
}

func TestDialCookies(t *testing.T) {
	seen := make(chan string, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cookie, _ := r.Cookie("session")
		if cookie != nil {
			seen <- cookie.Value
		} else {
			seen <- ""
		}
		if r.URL.Path == "/refuse" {
			http.SetCookie(w, &http.Cookie{Name: "refused", Value: "yes"})
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		c, err := (&Upgrader{}).Upgrade(w, r, http.Header{"Set-Cookie": {"token=abc"}})
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(dialTestTimeout))
		_, _, _ = c.ReadMessage()
	}))
	defer srv.Close()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: "xyz"}})
	d := &Dialer{Jar: jar, HandshakeTimeout: dialTestTimeout}

	c, _, err := d.Dial("ws://"+u.Host+"/", nil)
	require.NoError(t, err)
	require.NoError(t, c.Close())
	assert.Equal(t, "xyz", <-seen)

	_, resp, err := d.Dial("ws://"+u.Host+"/refuse", nil)
	assert.ErrorIs(t, err, ErrBadHandshake)
	require.NotNil(t, resp)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, "xyz", <-seen)

	got := map[string]string{}
	for _, ck := range jar.Cookies(u) {
		got[ck.Name] = ck.Value
	}
	assert.Equal(t, map[string]string{"session": "xyz", "token": "abc", "refused": "yes"}, got)
}

func TestDialNilDialer(t *testing.T) {
	srv := dialEchoServer(t, &Upgrader{}, false)
	var d *Dialer
	c, _, err := d.Dial("ws://"+srv.Listener.Addr().String(), nil)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.WriteMessage(TextMessage, []byte("x")))
	_, p, err := c.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, "x", string(p))
}
