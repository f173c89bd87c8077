package websocket

// Compatibility tests for the client side: each asserts what a program
// written for gorilla/websocket v1.5.3 expects from the Dialer.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCompatBadHandshakeSentinel: a refused handshake returns the
// ErrBadHandshake value itself, so `err == websocket.ErrBadHandshake`
// holds, with the response; BadHandshakeReason names the failed check.
func TestCompatBadHandshakeSentinel(t *testing.T) {
	cases := []struct {
		name        string
		compress    bool
		respond     func(*http.Request) []byte
		status      int
		body        string
		reasonMatch string
	}{
		{"status 403 with body", false, func(*http.Request) []byte {
			return []byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\n\r\nnope!\n")
		}, http.StatusForbidden, "nope!\n", `status "403 Forbidden"`},
		{"wrong accept", false, func(*http.Request) []byte {
			return []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n")
		}, http.StatusSwitchingProtocols, "", "Sec-WebSocket-Accept"},
		{"extension not offered", false, func(r *http.Request) []byte {
			return response101(r, "Sec-WebSocket-Extensions: permessage-deflate")
		}, http.StatusSwitchingProtocols, "", "extension"},
		{"bad deflate parameters", true, func(r *http.Request) []byte {
			return response101(r, "Sec-WebSocket-Extensions: permessage-deflate; bogus=1")
		}, http.StatusSwitchingProtocols, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr, res := startDialScript(t, true, tc.respond)
			d := &Dialer{HandshakeTimeout: dialTestTimeout, EnableCompression: tc.compress}
			c, resp, err := d.Dial("ws://"+addr, nil)
			assert.Nil(t, c)
			assert.True(t, err == ErrBadHandshake, "err = %v, want the ErrBadHandshake value", err)
			assert.ErrorIs(t, err, ErrBadHandshake)
			require.NotNil(t, resp)
			assert.Equal(t, tc.status, resp.StatusCode)
			body, rerr := io.ReadAll(resp.Body)
			require.NoError(t, rerr)
			assert.Equal(t, tc.body, string(body))
			reason := BadHandshakeReason(resp)
			require.Error(t, reason)
			assert.ErrorIs(t, reason, ErrBadHandshake)
			assert.Contains(t, reason.Error(), tc.reasonMatch)
			r := awaitScript(t, res)
			require.NoError(t, r.err)
			assert.True(t, r.eof, "client did not close the connection")
		})
	}
}

// TestCompatBadHandshakeReasonOther: BadHandshakeReason is nil when there
// is nothing to explain.
func TestCompatBadHandshakeReasonOther(t *testing.T) {
	srv := dialEchoServer(t, &Upgrader{}, false)
	c, resp, err := (&Dialer{HandshakeTimeout: dialTestTimeout}).Dial("ws://"+srv.Listener.Addr().String(), nil)
	require.NoError(t, err)
	defer c.Close()
	cases := []struct {
		name string
		resp *http.Response
	}{
		{"nil response", nil},
		{"successful dial", resp},
		{"body replaced", &http.Response{Body: io.NopCloser(strings.NewReader("x"))}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.NoError(t, BadHandshakeReason(tc.resp))
		})
	}
}

// TestCompatNegativeHandshakeTimeout: a negative HandshakeTimeout is an
// expired bound, as in gorilla: the dial fails at once with a timeout and
// never reaches the network.
func TestCompatNegativeHandshakeTimeout(t *testing.T) {
	cases := []struct {
		name    string
		timeout time.Duration
	}{
		{"minus one nanosecond", -1},
		{"minus one hour", -time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dialed := false
			d := &Dialer{
				HandshakeTimeout: tc.timeout,
				NetDialContext: func(context.Context, string, string) (net.Conn, error) {
					dialed = true
					return nil, errors.New("must not dial")
				},
			}
			c, resp, err := d.Dial("ws://127.0.0.1:1/", nil)
			assert.Nil(t, c)
			assert.Nil(t, resp)
			require.Error(t, err)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			var ne net.Error
			require.ErrorAs(t, err, &ne)
			assert.True(t, ne.Timeout())
			assert.False(t, dialed)
		})
	}
}

// dialCall records one call of a dial function.
type dialCall struct{ fn, network, addr string }

// recordingDialers returns NetDial, NetDialContext and NetDialTLSContext
// functions that record their calls in *calls; the TLS one dials tlsCfg
// over TCP and completes the TLS handshake.
func recordingDialers(calls *[]dialCall, tlsCfg *tls.Config) (
	nd func(string, string) (net.Conn, error),
	ndc, ndtls func(context.Context, string, string) (net.Conn, error),
) {
	nd = func(network, addr string) (net.Conn, error) {
		*calls = append(*calls, dialCall{"NetDial", network, addr})
		return net.DialTimeout(network, addr, dialTestTimeout)
	}
	ndc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		*calls = append(*calls, dialCall{"NetDialContext", network, addr})
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	ndtls = func(ctx context.Context, network, addr string) (net.Conn, error) {
		*calls = append(*calls, dialCall{"NetDialTLSContext", network, addr})
		d := tls.Dialer{Config: tlsCfg}
		return d.DialContext(ctx, network, addr)
	}
	return nd, ndc, ndtls
}

// TestCompatDialFuncs: the dial function chosen for each combination of
// NetDial, NetDialContext and NetDialTLSContext is gorilla's, and with
// NetDialTLSContext the Dialer does no TLS itself (TLSClientConfig, here
// one that trusts nothing, is ignored).
func TestCompatDialFuncs(t *testing.T) {
	plain := dialEchoServer(t, &Upgrader{}, false)
	secure := dialEchoServer(t, &Upgrader{}, true)
	untrusting := &tls.Config{RootCAs: x509.NewCertPool()}
	cases := []struct {
		name         string
		secure       bool
		nd, ndc, ntl bool
		want         string // the dial function called; "" for none of them
	}{
		{"ws NetDial only", false, true, false, false, "NetDial"},
		{"ws NetDialContext over NetDial", false, true, true, false, "NetDialContext"},
		{"ws ignores NetDialTLSContext", false, false, false, true, ""},
		{"wss NetDialTLSContext first", true, true, true, true, "NetDialTLSContext"},
		{"wss NetDialTLSContext only", true, false, false, true, "NetDialTLSContext"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var calls []dialCall
			nd, ndc, ndtls := recordingDialers(&calls, dialTLSConfig(t, secure))
			d := &Dialer{HandshakeTimeout: dialTestTimeout, TLSClientConfig: untrusting}
			if tc.nd {
				d.NetDial = nd
			}
			if tc.ndc {
				d.NetDialContext = ndc
			}
			if tc.ntl {
				d.NetDialTLSContext = ndtls
			}
			srv, scheme := plain, "ws://"
			if tc.secure {
				srv, scheme = secure, "wss://"
			}
			addr := srv.Listener.Addr().String()
			c, _, err := d.Dial(scheme+addr+"/", nil)
			require.NoError(t, err)
			defer c.Close()
			require.NoError(t, c.WriteMessage(TextMessage, []byte("hi")))
			_, p, err := c.ReadMessage()
			require.NoError(t, err)
			assert.Equal(t, "hi", string(p))
			if tc.want == "" {
				assert.Empty(t, calls)
			} else {
				assert.Equal(t, []dialCall{{tc.want, "tcp", addr}}, calls)
			}
		})
	}
}

// TestCompatNewClient: NewClient runs the handshake over a connection the
// caller opened (for wss, TLS with a zero tls.Config, which does not trust
// the test server), and closes it when the handshake fails.
func TestCompatNewClient(t *testing.T) {
	plain := dialEchoServer(t, &Upgrader{}, false)
	secure := dialEchoServer(t, &Upgrader{}, true)
	cases := []struct {
		name    string
		srv     *httptest.Server
		scheme  string
		wantTLS bool // the dial fails verifying the server's certificate
	}{
		{"ws", plain, "ws", false},
		{"wss runs TLS over netConn", secure, "wss", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := tc.srv.Listener.Addr().String()
			nc, err := net.DialTimeout("tcp", addr, dialTestTimeout)
			require.NoError(t, err)
			defer nc.Close()
			require.NoError(t, nc.SetDeadline(time.Now().Add(dialTestTimeout)))
			u := &url.URL{Scheme: tc.scheme, Host: addr, Path: "/chat"}
			c, resp, err := NewClient(nc, u, http.Header{"Origin": {"http://" + addr}}, 1024, 1024)
			if tc.wantTLS {
				assert.Nil(t, c)
				var verr *tls.CertificateVerificationError
				assert.ErrorAs(t, err, &verr)
				_, werr := nc.Write([]byte{0})
				assert.ErrorIs(t, werr, net.ErrClosed)
				return
			}
			require.NoError(t, err)
			defer c.Close()
			assert.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
			require.NoError(t, c.WriteMessage(BinaryMessage, []byte{1, 2, 3}))
			_, p, err := c.ReadMessage()
			require.NoError(t, err)
			assert.Equal(t, []byte{1, 2, 3}, p)
		})
	}

	t.Run("refused closes netConn", func(t *testing.T) {
		addr, res := startDialScript(t, true, func(*http.Request) []byte {
			return []byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
		})
		nc, err := net.DialTimeout("tcp", addr, dialTestTimeout)
		require.NoError(t, err)
		c, resp, err := NewClient(nc, &url.URL{Scheme: "ws", Host: addr, Path: "/"}, nil, 0, 0)
		assert.Nil(t, c)
		assert.True(t, err == ErrBadHandshake, "err = %v", err)
		require.NotNil(t, resp)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		_, werr := nc.Write([]byte{0})
		assert.ErrorIs(t, werr, net.ErrClosed)
		r := awaitScript(t, res)
		require.NoError(t, r.err)
	})

	t.Run("invalid arguments", func(t *testing.T) {
		client, server := net.Pipe()
		defer server.Close()
		defer client.Close()
		for _, u := range []*url.URL{nil, {Scheme: "ftp", Host: "example.com"}} {
			c, resp, err := NewClient(client, u, nil, 0, 0)
			assert.Nil(t, c)
			assert.Nil(t, resp)
			assert.ErrorIs(t, err, errMalformedURL)
		}
		_, _, err := NewClient(nil, &url.URL{Scheme: "ws", Host: "example.com"}, nil, 0, 0)
		assert.Error(t, err)
		// netConn was not used, so it is still open.
		require.NoError(t, server.SetDeadline(time.Now().Add(dialTestTimeout)))
		go func() { _, _ = client.Write([]byte{7}) }()
		var b [1]byte
		_, err = io.ReadFull(server, b[:])
		require.NoError(t, err)
	})
}

// TestCompatTraceHooks: the httptrace hooks of the DialContext context
// fire once each, in gorilla's order, for ws and wss.
func TestCompatTraceHooks(t *testing.T) {
	plain := dialEchoServer(t, &Upgrader{}, false)
	secure := dialEchoServer(t, &Upgrader{}, true)
	withoutTLS := []string{"GetConn", "GotConn", "WroteHeaders", "WroteRequest", "GotFirstResponseByte"}
	withTLS := []string{"GetConn", "GotConn", "TLSHandshakeStart", "TLSHandshakeDone", "WroteHeaders", "WroteRequest", "GotFirstResponseByte"}
	cases := []struct {
		name    string
		srv     *httptest.Server
		scheme  string
		tlsDial bool // NetDialTLSContext does the TLS handshake
		socks   bool // through a SOCKS5 proxy
		want    []string
	}{
		{"ws", plain, "ws", false, false, withoutTLS},
		{"wss", secure, "wss", false, false, withTLS},
		{"wss with NetDialTLSContext", secure, "wss", true, false, withoutTLS},
		{"wss through SOCKS5", secure, "wss", false, true, withTLS},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := tc.srv.Listener.Addr().String()
			var events []string
			var fields int
			var gotConn net.Conn
			trace := &httptrace.ClientTrace{
				GetConn: func(hostPort string) {
					assert.Equal(t, addr, hostPort)
					events = append(events, "GetConn")
				},
				GotConn: func(info httptrace.GotConnInfo) {
					gotConn = info.Conn
					events = append(events, "GotConn")
				},
				TLSHandshakeStart: func() { events = append(events, "TLSHandshakeStart") },
				TLSHandshakeDone: func(cs tls.ConnectionState, err error) {
					assert.NoError(t, err)
					assert.True(t, cs.HandshakeComplete)
					events = append(events, "TLSHandshakeDone")
				},
				WroteHeaderField: func(string, []string) { fields++ },
				WroteHeaders:     func() { events = append(events, "WroteHeaders") },
				WroteRequest: func(info httptrace.WroteRequestInfo) {
					assert.NoError(t, info.Err)
					events = append(events, "WroteRequest")
				},
				GotFirstResponseByte: func() { events = append(events, "GotFirstResponseByte") },
			}
			cfg := dialTLSConfig(t, tc.srv)
			d := &Dialer{HandshakeTimeout: dialTestTimeout, TLSClientConfig: cfg}
			if tc.tlsDial {
				var calls []dialCall
				_, _, d.NetDialTLSContext = recordingDialers(&calls, cfg)
			}
			connAddr := addr // the peer GotConn's connection is connected to
			if tc.socks {
				var rec <-chan socksRecord
				connAddr, rec = startSOCKS5(t, socksServerConfig{})
				d.Proxy = http.ProxyURL(&url.URL{Scheme: "socks5", Host: connAddr})
				defer func() { assert.NoError(t, awaitSOCKS(t, rec).err) }()
			}
			ctx := httptrace.WithClientTrace(context.Background(), trace)
			c, _, err := d.DialContext(ctx, tc.scheme+"://"+addr+"/", nil)
			require.NoError(t, err)
			defer func() { assert.NoError(t, c.Close()) }()
			assert.Equal(t, tc.want, events)
			assert.GreaterOrEqual(t, fields, 4, "WroteHeaderField calls")
			require.NotNil(t, gotConn)
			assert.Equal(t, connAddr, gotConn.RemoteAddr().String())
		})
	}
}

// TestCompatTraceFailedDial: a dial that cannot connect calls GetConn and
// nothing after it.
func TestCompatTraceFailedDial(t *testing.T) {
	var events []string
	trace := &httptrace.ClientTrace{
		GetConn: func(string) { events = append(events, "GetConn") },
		GotConn: func(httptrace.GotConnInfo) { events = append(events, "GotConn") },
	}
	d := &Dialer{
		HandshakeTimeout: dialTestTimeout,
		NetDialContext: func(context.Context, string, string) (net.Conn, error) {
			return nil, errors.New("refused by the test")
		},
	}
	_, _, err := d.DialContext(httptrace.WithClientTrace(context.Background(), trace), "ws://example.com/", nil)
	require.Error(t, err)
	assert.Equal(t, []string{"GetConn"}, events)
}

// TestCompatNetDialTLSContextProxy: behind a proxy, as in gorilla,
// NetDialTLSContext dials the proxy for wss and the Dialer does no TLS of
// its own over the tunnel (here a plain server answers the wss dial, which
// only works when no TLS handshake is attempted).
func TestCompatNetDialTLSContextProxy(t *testing.T) {
	plain := dialEchoServer(t, &Upgrader{}, false)
	proxyURL, rec := startConnectProxy(t, "", nil)
	var dialed []string
	d := &Dialer{
		HandshakeTimeout: dialTestTimeout,
		Proxy:            http.ProxyURL(proxyURL),
		NetDialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dialed = append(dialed, addr)
			var nd net.Dialer
			return nd.DialContext(ctx, network, addr)
		},
	}
	target := plain.Listener.Addr().String()
	c, _, err := d.Dial("wss://"+target+"/", nil)
	require.NoError(t, err)
	require.NoError(t, c.WriteMessage(TextMessage, []byte("tunnel")))
	_, p, err := c.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, "tunnel", string(p))
	require.NoError(t, c.Close())
	assert.Equal(t, []string{proxyURL.Host}, dialed)
	r := awaitProxy(t, rec)
	require.NoError(t, r.err)
	assert.Equal(t, target, r.req.RequestURI)
}
