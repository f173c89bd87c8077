package websocket

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// socksServerConfig scripts the test SOCKS5 server.
type socksServerConfig struct {
	user, password string // when user is set, username/password is required
	reply          byte   // CONNECT reply code; 0 connects and relays
	// hosts maps the domain names the server resolves to host:port
	// addresses; other domain names get reply 4 (host unreachable).
	hosts map[string]string
}

// socksRecord is what the test SOCKS5 server observed.
type socksRecord struct {
	methods        []byte
	user, password string
	authOK         bool
	atyp           byte
	host           string // domain name or IP address
	port           int
	err            error
}

// startSOCKS5 starts a one-connection SOCKS5 server (RFC 1928 CONNECT, RFC
// 1929 username/password) on 127.0.0.1 and returns its address. Every step
// is bounded by dialTestTimeout; the record is sent when the connection
// ends.
func startSOCKS5(t *testing.T, cfg socksServerConfig) (addr string, record <-chan socksRecord) {
	t.Helper()
	rec := make(chan socksRecord, 1)
	addr = serveOneConn(t, func(nc net.Conn, err error) {
		var r socksRecord
		defer func() { rec <- r }()
		if r.err = err; err != nil {
			return
		}
		r.err = serveSOCKS5(nc, cfg, &r)
	})
	return addr, rec
}

// serveSOCKS5 runs one SOCKS5 session on nc, recording it in r.
func serveSOCKS5(nc net.Conn, cfg socksServerConfig, r *socksRecord) error {
	var hdr [2]byte
	if _, err := io.ReadFull(nc, hdr[:]); err != nil {
		return err
	}
	if hdr[0] != 5 {
		return fmt.Errorf("greeting version %d", hdr[0])
	}
	r.methods = make([]byte, hdr[1])
	if _, err := io.ReadFull(nc, r.methods); err != nil {
		return err
	}
	want := byte(0)
	if cfg.user != "" {
		want = 2
	}
	if !slices.Contains(r.methods, want) {
		_, err := nc.Write([]byte{5, 0xff})
		return err
	}
	if _, err := nc.Write([]byte{5, want}); err != nil {
		return err
	}
	if want == 2 {
		var err error
		if r.user, r.password, err = readSOCKSCredentials(nc); err != nil {
			return err
		}
		r.authOK = r.user == cfg.user && r.password == cfg.password
		status := byte(1)
		if r.authOK {
			status = 0
		}
		if _, err := nc.Write([]byte{1, status}); err != nil || !r.authOK {
			return err
		}
	}
	var req [4]byte
	if _, err := io.ReadFull(nc, req[:]); err != nil {
		return err
	}
	if req[0] != 5 || req[1] != 1 || req[2] != 0 {
		return fmt.Errorf("bad CONNECT request head % x", req)
	}
	r.atyp = req[3]
	var raw []byte
	switch r.atyp {
	case 1, 4:
		raw = make([]byte, map[byte]int{1: 4, 4: 16}[r.atyp])
		if _, err := io.ReadFull(nc, raw); err != nil {
			return err
		}
		r.host = net.IP(raw).String()
	case 3:
		var l [1]byte
		if _, err := io.ReadFull(nc, l[:]); err != nil {
			return err
		}
		raw = make([]byte, l[0])
		if _, err := io.ReadFull(nc, raw); err != nil {
			return err
		}
		r.host = string(raw)
	default:
		return fmt.Errorf("address type %d", r.atyp)
	}
	var port [2]byte
	if _, err := io.ReadFull(nc, port[:]); err != nil {
		return err
	}
	r.port = int(binary.BigEndian.Uint16(port[:]))
	target := net.JoinHostPort(r.host, strconv.Itoa(r.port))
	if r.atyp == 3 {
		target = cfg.hosts[r.host]
	}
	code := cfg.reply
	if code == 0 && target == "" {
		code = 4
	}
	// The bound address is a domain name, which the client must skip.
	reply := []byte{5, code, 0, 3, 4, 'b', 'n', 'd', 'x', 0x12, 0x34}
	if code != 0 {
		_, err := nc.Write(reply)
		return err
	}
	up, err := net.DialTimeout("tcp", target, dialTestTimeout)
	if err != nil {
		return err
	}
	defer up.Close()
	if err := up.SetDeadline(time.Now().Add(dialTestTimeout)); err != nil {
		return err
	}
	if _, err := nc.Write(reply); err != nil {
		return err
	}
	// Relay both ways; each direction half-closes its destination when its
	// source ends. Teardown errors are not the proxy's concern.
	relay := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		_ = dst.(*net.TCPConn).CloseWrite()
	}
	upstream := make(chan struct{})
	go func() { relay(up, nc); close(upstream) }()
	relay(nc, up)
	<-upstream
	return nil
}

// readSOCKSCredentials reads an RFC 1929 username/password request.
func readSOCKSCredentials(nc net.Conn) (user, password string, err error) {
	field := func() (string, error) {
		var l [1]byte
		if _, err := io.ReadFull(nc, l[:]); err != nil {
			return "", err
		}
		b := make([]byte, l[0])
		_, err := io.ReadFull(nc, b)
		return string(b), err
	}
	var v [1]byte
	if _, err = io.ReadFull(nc, v[:]); err != nil {
		return "", "", err
	}
	if v[0] != 1 {
		return "", "", fmt.Errorf("auth version %d", v[0])
	}
	if user, err = field(); err != nil {
		return "", "", err
	}
	password, err = field()
	return user, password, err
}

// awaitSOCKS returns the test SOCKS5 server's record.
func awaitSOCKS(t *testing.T, rec <-chan socksRecord) socksRecord {
	t.Helper()
	return within(t, rec, dialTestTimeout, "SOCKS5 server record")
}

func TestCompatSOCKS5(t *testing.T) {
	cases := []struct {
		name     string
		cfg      socksServerConfig
		scheme   string // of the proxy URL
		user     *url.Userinfo
		secure   bool
		byName   bool // dial a host name the proxy resolves
		methods  []byte
		wantAtyp byte
	}{
		{"no auth, host name", socksServerConfig{}, "socks5", nil, false, true, []byte{0}, 3},
		{"no auth, IP literal", socksServerConfig{}, "socks5", nil, false, false, []byte{0}, 1},
		{"socks5h", socksServerConfig{}, "socks5h", nil, false, true, []byte{0}, 3},
		{"user and password", socksServerConfig{user: "alice", password: "p@ss:wörd"}, "socks5",
			url.UserPassword("alice", "p@ss:wörd"), false, true, []byte{0, 2}, 3},
		{"credentials offered, none needed", socksServerConfig{}, "socks5",
			url.UserPassword("alice", "x"), false, true, []byte{0, 2}, 3},
		{"wss through the tunnel", socksServerConfig{user: "bob", password: "pw"}, "socks5",
			url.UserPassword("bob", "pw"), true, false, []byte{0, 2}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := dialEchoServer(t, &Upgrader{}, tc.secure)
			target := srv.Listener.Addr().String()
			_, port, err := net.SplitHostPort(target)
			require.NoError(t, err)
			tc.cfg.hosts = map[string]string{"echo.test": target}
			proxyAddr, rec := startSOCKS5(t, tc.cfg)
			proxyURL := &url.URL{Scheme: tc.scheme, Host: proxyAddr, User: tc.user}
			d := &Dialer{HandshakeTimeout: dialTestTimeout, Proxy: http.ProxyURL(proxyURL)}
			scheme, host := "ws", "127.0.0.1"
			if tc.secure {
				scheme = "wss"
				d.TLSClientConfig = dialTLSConfig(t, srv)
			}
			if tc.byName {
				host = "echo.test"
			}
			c, resp, err := d.Dial(scheme+"://"+net.JoinHostPort(host, port)+"/", nil)
			require.NoError(t, err)
			assert.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
			require.NoError(t, c.WriteMessage(TextMessage, []byte("through SOCKS")))
			_, p, err := c.ReadMessage()
			require.NoError(t, err)
			assert.Equal(t, "through SOCKS", string(p))
			require.NoError(t, c.Close())

			r := awaitSOCKS(t, rec)
			require.NoError(t, r.err)
			assert.Equal(t, tc.methods, r.methods)
			assert.Equal(t, tc.wantAtyp, r.atyp)
			assert.Equal(t, host, r.host)
			assert.Equal(t, port, strconv.Itoa(r.port))
			if tc.cfg.user != "" {
				assert.True(t, r.authOK)
			}
		})
	}
}

func TestCompatSOCKS5Failures(t *testing.T) {
	cases := []struct {
		name    string
		cfg     socksServerConfig
		user    *url.Userinfo
		host    string
		wantErr error
		wantMsg string
	}{
		{"wrong password", socksServerConfig{user: "alice", password: "right"}, url.UserPassword("alice", "wrong"),
			"127.0.0.1", errSOCKSAuth, "rejected"},
		{"credentials required", socksServerConfig{user: "alice", password: "right"}, nil,
			"127.0.0.1", errSOCKSAuth, "no offered method"},
		{"unknown host", socksServerConfig{}, nil, "nowhere.test", errProxyRefused, "reply 4: host unreachable"},
	}
	for code, msg := range socksReplies {
		if msg != "" {
			cases = append(cases, struct {
				name    string
				cfg     socksServerConfig
				user    *url.Userinfo
				host    string
				wantErr error
				wantMsg string
			}{"reply " + msg, socksServerConfig{reply: byte(code)}, nil, "127.0.0.1", errProxyRefused,
				fmt.Sprintf("reply %d: %s", code, msg)})
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			proxyAddr, rec := startSOCKS5(t, tc.cfg)
			d := &Dialer{
				HandshakeTimeout: dialTestTimeout,
				Proxy:            http.ProxyURL(&url.URL{Scheme: "socks5", Host: proxyAddr, User: tc.user}),
			}
			c, resp, err := d.Dial("ws://"+net.JoinHostPort(tc.host, "9")+"/", nil)
			assert.Nil(t, c)
			assert.Nil(t, resp)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.wantErr)
			assert.ErrorContains(t, err, tc.wantMsg)
			assert.NotErrorIs(t, err, ErrBadHandshake)
			require.NoError(t, awaitSOCKS(t, rec).err)
		})
	}
}

// TestSOCKSConnectScripted runs socksConnect over a net.Pipe against
// malformed or unusual proxy answers.
func TestSOCKSConnectScripted(t *testing.T) {
	cases := []struct {
		name    string
		user    *url.Userinfo
		addr    string
		answer  []byte // the proxy's bytes after reading the greeting
		wantErr error  // nil: success, and the tunnel then yields "HI"
	}{
		{"IPv6 bound address", nil, "[::1]:80", []byte{5, 0, 5, 0, 0, 4, 23: 0, 'H', 'I'}, nil},
		{"IPv4 bound address", nil, "example.com:80", []byte{5, 0, 5, 0, 0, 1, 1, 2, 3, 4, 0, 80, 'H', 'I'}, nil},
		{"bad version", nil, "example.com:80", []byte{4, 0}, errSOCKSProtocol},
		{"method not offered", nil, "example.com:80", []byte{5, 2}, errSOCKSProtocol},
		{"unknown method", url.UserPassword("a", "b"), "example.com:80", []byte{5, 9}, errSOCKSProtocol},
		{"bad reply address type", nil, "example.com:80", []byte{5, 0, 5, 0, 0, 7}, errSOCKSProtocol},
		{"unknown reply code", nil, "example.com:80", []byte{5, 0, 5, 42, 0, 1}, errProxyRefused},
		{"truncated reply", nil, "example.com:80", []byte{5, 0, 5, 0}, io.ErrUnexpectedEOF},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			client, server := net.Pipe()
			defer client.Close()
			done := make(chan error, 1)
			go func() {
				defer server.Close()
				_ = server.SetDeadline(time.Now().Add(dialTestTimeout))
				// Drain everything the client writes, concurrently with
				// the scripted answer (net.Pipe writes block until read).
				drained := make(chan struct{})
				go func() { _, _ = io.Copy(io.Discard, server); close(drained) }()
				_, err := server.Write(tc.answer)
				server.Close()
				<-drained
				done <- err
			}()
			require.NoError(t, client.SetDeadline(time.Now().Add(dialTestTimeout)))
			err := socksConnect(client, &url.URL{Scheme: "socks5", Host: "proxy", User: tc.user}, tc.addr)
			if tc.wantErr != nil {
				assert.ErrorIs(t, err, tc.wantErr)
				client.Close()
				<-done
				return
			}
			require.NoError(t, err)
			var b [2]byte
			_, err = io.ReadFull(client, b[:])
			require.NoError(t, err)
			assert.Equal(t, "HI", string(b[:]))
			client.Close()
			<-done
		})
	}
}

// TestSOCKSConnectBadInput: inputs that cannot be sent fail before any
// byte is written.
func TestSOCKSConnectBadInput(t *testing.T) {
	long := string(make([]byte, 256))
	cases := []struct {
		name string
		user *url.Userinfo
		addr string
	}{
		{"empty user name", url.UserPassword("", "pw"), "example.com:80"},
		{"long user name", url.User(long), "example.com:80"},
		{"long password", url.UserPassword("a", long), "example.com:80"},
		{"long host name", nil, long + ":80"},
		{"port out of range", nil, "example.com:70000"},
		{"no port", nil, "example.com"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			client, server := net.Pipe()
			defer server.Close()
			defer client.Close()
			err := socksConnect(client, &url.URL{Scheme: "socks5", Host: "proxy", User: tc.user}, tc.addr)
			assert.Error(t, err)
			assert.False(t, errors.Is(err, errProxyRefused))
		})
	}
}

// TestCompatSOCKS5FromEnvironment: with HTTP_PROXY (ws) or HTTPS_PROXY
// (wss) set to a socks5:// URL, a Dialer using http.ProxyFromEnvironment,
// as DefaultDialer does, dials through the SOCKS5 proxy. The dial runs in
// a child test process, since ProxyFromEnvironment reads the environment
// once per process.
func TestCompatSOCKS5FromEnvironment(t *testing.T) {
	if u := os.Getenv("WSUP_TEST_SOCKS_URL"); u != "" {
		socksEnvChild(t, u)
		return
	}
	cases := []struct {
		name   string
		secure bool
		env    string
	}{
		{"ws with HTTP_PROXY", false, "HTTP_PROXY"},
		{"wss with HTTPS_PROXY", true, "HTTPS_PROXY"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := dialEchoServer(t, &Upgrader{}, tc.secure)
			target := srv.Listener.Addr().String()
			_, port, err := net.SplitHostPort(target)
			require.NoError(t, err)
			// A host name, not 127.0.0.1: ProxyFromEnvironment never
			// proxies loopback addresses. The proxy resolves it.
			proxyAddr, rec := startSOCKS5(t, socksServerConfig{
				user: "env", password: "secret", hosts: map[string]string{"echo.test": target},
			})
			scheme := map[bool]string{false: "ws", true: "wss"}[tc.secure]
			env := []string{
				tc.env + "=socks5://env:secret@" + proxyAddr,
				"WSUP_TEST_SOCKS_URL=" + scheme + "://echo.test:" + port + "/",
			}
			if tc.secure {
				ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
				env = append(env, "WSUP_TEST_SOCKS_CA="+string(ca))
			}
			ctx, cancel := context.WithTimeout(context.Background(), dialTestTimeout)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCompatSOCKS5FromEnvironment$", "-test.count=1", "-test.v")
			cmd.Env = append(withoutProxyEnv(os.Environ()), env...)
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "child test:\n%s", out)
			assert.Contains(t, string(out), "--- PASS: TestCompatSOCKS5FromEnvironment")
			r := awaitSOCKS(t, rec)
			require.NoError(t, r.err)
			assert.True(t, r.authOK)
			assert.Equal(t, "echo.test", r.host)
		})
	}
}

// withoutProxyEnv returns env without the proxy variables.
func withoutProxyEnv(env []string) []string {
	var kept []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasSuffix(strings.ToUpper(name), "_PROXY") {
			kept = append(kept, kv)
		}
	}
	return kept
}

// socksEnvChild is TestCompatSOCKS5FromEnvironment in the child process:
// it dials wsURL with the proxy from the environment and echoes a message.
func socksEnvChild(t *testing.T, wsURL string) {
	d := &Dialer{Proxy: http.ProxyFromEnvironment, HandshakeTimeout: dialTestTimeout}
	if ca := os.Getenv("WSUP_TEST_SOCKS_CA"); ca != "" {
		pool := x509.NewCertPool()
		require.True(t, pool.AppendCertsFromPEM([]byte(ca)))
		// httptest certificates name example.com, not echo.test.
		d.TLSClientConfig = &tls.Config{RootCAs: pool, ServerName: "example.com"}
	}
	c, _, err := d.Dial(wsURL, nil)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.WriteMessage(TextMessage, []byte("env")))
	_, p, err := c.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, "env", string(p))
}
