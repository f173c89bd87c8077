package websocket

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// proxyRecord is what the test proxy observed.
type proxyRecord struct {
	req *http.Request // the CONNECT request
	eof bool          // the client closed its connection (not set when relaying)
	err error
}

// startConnectProxy starts a one-connection HTTP proxy on 127.0.0.1. It
// reads the client's request; when reply is empty it dials the CONNECT
// target, answers 200 and relays bytes both ways until one side closes;
// when reply is "silent" it answers nothing; otherwise it writes reply. In
// the last two cases it then reads until the client closes. onRequest, when
// not nil, is called once the request was read. Every step is bounded by
// dialTestTimeout.
func startConnectProxy(t *testing.T, reply string, onRequest func()) (proxyURL *url.URL, record <-chan proxyRecord) {
	t.Helper()
	rec := make(chan proxyRecord, 1)
	addr := serveOneConn(t, func(nc net.Conn, err error) {
		var r proxyRecord
		defer func() { rec <- r }()
		if r.err = err; err != nil {
			return
		}
		br := bufio.NewReader(nc)
		if r.req, r.err = http.ReadRequest(br); r.err != nil {
			return
		}
		if onRequest != nil {
			onRequest()
		}
		if reply != "" {
			if reply != "silent" {
				if _, r.err = io.WriteString(nc, reply); r.err != nil {
					return
				}
			}
			_, r.err = io.Copy(io.Discard, br)
			r.eof = r.err == nil
			return
		}
		target, err := net.DialTimeout("tcp", r.req.RequestURI, dialTestTimeout)
		if err != nil {
			r.err = err
			return
		}
		defer target.Close()
		if r.err = target.SetDeadline(time.Now().Add(dialTestTimeout)); r.err != nil {
			return
		}
		if _, r.err = io.WriteString(nc, "HTTP/1.1 200 Connection established\r\n\r\n"); r.err != nil {
			return
		}
		// Relay both ways; each direction half-closes its destination when
		// its source ends, so both end once both peers have closed.
		relay := func(dst net.Conn, src io.Reader) error {
			_, err := io.Copy(dst, src)
			if err == nil {
				err = dst.(*net.TCPConn).CloseWrite()
			}
			return err
		}
		// Teardown errors (resets after TLS close_notify) are not the
		// proxy's concern: they are not reported.
		upstream := make(chan error, 1)
		go func() { upstream <- relay(target, br) }()
		_ = relay(nc, target)
		<-upstream
	})
	return &url.URL{Scheme: "http", Host: addr}, rec
}

// awaitProxy returns the test proxy's record.
func awaitProxy(t *testing.T, rec <-chan proxyRecord) proxyRecord {
	t.Helper()
	select {
	case r := <-rec:
		return r
	case <-time.After(dialTestTimeout):
		t.Fatal("proxy did not finish")
		return proxyRecord{}
	}
}

func TestDialProxy(t *testing.T) {
	cases := []struct {
		name     string
		user     *url.Userinfo
		secure   bool
		wantAuth string
	}{
		{"no credentials", nil, false, ""},
		{"basic auth", url.UserPassword("alice", "s3cret"), false, "Basic YWxpY2U6czNjcmV0"},
		{"password with colon and at", url.UserPassword("alice", "p@ss:word"), false, "Basic YWxpY2U6cEBzczp3b3Jk"},
		{"user only", url.User("bob"), false, "Basic Ym9iOg=="},
		{"wss through the tunnel", url.UserPassword("alice", "s3cret"), true, "Basic YWxpY2U6czNjcmV0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := dialEchoServer(t, &Upgrader{}, tc.secure)
			proxyURL, rec := startConnectProxy(t, "", nil)
			proxyURL.User = tc.user
			var requested *http.Request
			d := &Dialer{
				HandshakeTimeout: dialTestTimeout,
				Proxy: func(r *http.Request) (*url.URL, error) {
					requested = r
					return proxyURL, nil
				},
			}
			scheme := "ws"
			if tc.secure {
				scheme = "wss"
				d.TLSClientConfig = dialTLSConfig(t, srv)
			}
			target := srv.Listener.Addr().String()
			c, resp, err := d.Dial(scheme+"://"+target+"/chat", nil)
			require.NoError(t, err)
			assert.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
			require.NoError(t, c.WriteMessage(TextMessage, []byte("through the proxy")))
			_, p, err := c.ReadMessage()
			require.NoError(t, err)
			assert.Equal(t, "through the proxy", string(p))
			require.NoError(t, c.Close())

			require.NotNil(t, requested)
			wantScheme := map[bool]string{false: "http", true: "https"}[tc.secure]
			assert.Equal(t, wantScheme+"://"+target+"/chat", requested.URL.String())

			r := awaitProxy(t, rec)
			require.NoError(t, r.err)
			assert.Equal(t, http.MethodConnect, r.req.Method)
			assert.Equal(t, target, r.req.RequestURI)
			assert.Equal(t, target, r.req.Host)
			assert.Equal(t, tc.wantAuth, r.req.Header.Get("Proxy-Authorization"))
		})
	}
}

func TestDialProxyRefused(t *testing.T) {
	cases := []struct {
		name  string
		reply string
	}{
		{"407", "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\nContent-Length: 0\r\n\r\n"},
		{"403 with body", "HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\nnope"},
		{"101", "HTTP/1.1 101 Switching Protocols\r\n\r\n"},
		{"garbage", "SSH-2.0-OpenSSH\r\n\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			proxyURL, rec := startConnectProxy(t, tc.reply, nil)
			d := &Dialer{HandshakeTimeout: dialTestTimeout, Proxy: http.ProxyURL(proxyURL)}
			c, resp, err := d.Dial("ws://127.0.0.1:1/", nil)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.Nil(t, resp)
			assert.NotErrorIs(t, err, ErrBadHandshake)
			r := awaitProxy(t, rec)
			require.NoError(t, r.err)
			assert.True(t, r.eof, "client did not close the connection")
			assert.Equal(t, "127.0.0.1:1", r.req.RequestURI)
		})
	}
	t.Run("status", func(t *testing.T) {
		proxyURL, _ := startConnectProxy(t, cases[0].reply, nil)
		_, _, err := (&Dialer{HandshakeTimeout: dialTestTimeout, Proxy: http.ProxyURL(proxyURL)}).Dial("ws://127.0.0.1:1/", nil)
		assert.ErrorIs(t, err, errProxyRefused)
		assert.ErrorContains(t, err, "407")
	})
}

func TestDialProxyCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The proxy never answers; the dial is canceled once it has the
	// CONNECT request.
	proxyURL, rec := startConnectProxy(t, "silent", cancel)
	d := &Dialer{Proxy: http.ProxyURL(proxyURL)}
	done := make(chan error, 1)
	go func() {
		_, _, err := d.DialContext(ctx, "ws://127.0.0.1:1/", nil)
		done <- err
	}()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(dialTestTimeout):
		t.Fatal("DialContext did not return")
	}
	r := awaitProxy(t, rec)
	require.NoError(t, r.err)
	assert.True(t, r.eof, "client did not close the connection")
}

func TestDialProxyNotUsed(t *testing.T) {
	errChoose := errors.New("no proxy for you")
	cases := []struct {
		name  string
		proxy func(*http.Request) (*url.URL, error)
		want  string
	}{
		{"Proxy fails", func(*http.Request) (*url.URL, error) { return nil, errChoose }, "no proxy for you"},
		{"socks4", http.ProxyURL(&url.URL{Scheme: "socks4", Host: "127.0.0.1:1080"}), "not supported"},
		{"https proxy", http.ProxyURL(&url.URL{Scheme: "https", Host: "127.0.0.1:443"}), "not supported"},
		{"no host", http.ProxyURL(&url.URL{Scheme: "http"}), "no host"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var rec dialRecorder
			d := &Dialer{NetDialContext: rec.dial, Proxy: tc.proxy}
			c, resp, err := d.Dial("ws://example.com", nil)
			assert.Nil(t, c)
			assert.Nil(t, resp)
			assert.ErrorContains(t, err, tc.want)
			assert.Empty(t, rec.addrs)
		})
	}
}

func TestProxyAddr(t *testing.T) {
	cases := []struct {
		url  string
		want string // "" for an error
	}{
		{"http://proxy.example", "proxy.example:80"},
		{"http://proxy.example:3128", "proxy.example:3128"},
		{"http://user:pw@[::1]", "[::1]:80"},
		{"http://[::1]:8080", "[::1]:8080"},
		{"https://proxy.example", ""},
		{"socks5://proxy.example", "proxy.example:1080"},
		{"socks5h://u:p@proxy.example:9050", "proxy.example:9050"},
		{"socks4://proxy.example", ""},
		{"http://", ""},
	}
	for _, tc := range cases {
		t.Run(tc.url, func(t *testing.T) {
			u, err := url.Parse(tc.url)
			require.NoError(t, err)
			got, err := proxyAddr(u)
			if tc.want == "" {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestProxyConnectResponse runs proxyConnect over a net.Pipe against
// scripted proxy answers.
func TestProxyConnectResponse(t *testing.T) {
	cases := []struct {
		name    string
		reply   string
		tunnel  string // bytes the tunnel must yield first
		wantErr error
	}{
		{"bytes after the response", "HTTP/1.1 200 Connection established\r\n\r\nHELLO", "HELLO", nil},
		{"HTTP/1.0 proxy", "HTTP/1.0 200 OK\r\nProxy-Agent: test\r\n\r\nHI", "HI", nil},
		{"header too large", "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-Pad: 0123456789012345678901234567890123456789\r\n", 2000), "", errResponseTooLarge},
		{"refused", "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n", "", errProxyRefused},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			client, server := net.Pipe()
			defer client.Close()
			done := make(chan error, 1)
			go func() {
				defer server.Close()
				_ = server.SetDeadline(time.Now().Add(dialTestTimeout))
				if _, err := http.ReadRequest(bufio.NewReader(server)); err != nil {
					done <- err
					return
				}
				_, err := io.WriteString(server, tc.reply)
				done <- err
			}()
			require.NoError(t, client.SetDeadline(time.Now().Add(dialTestTimeout)))
			conn, err := proxyConnect(client, &url.URL{Scheme: "http", Host: "proxy"}, "target:443")
			if tc.wantErr != nil {
				assert.ErrorIs(t, err, tc.wantErr)
				client.Close() // unblocks the proxy's write
				<-done
				return
			}
			require.NoError(t, err)
			require.NoError(t, <-done)
			got, err := io.ReadAll(conn)
			require.NoError(t, err)
			assert.Equal(t, tc.tunnel, string(got))
		})
	}
}
