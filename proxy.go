package websocket

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
)

// errProxyRefused is wrapped by the error DialContext returns when the
// proxy answers CONNECT with a status other than 200.
var errProxyRefused = errors.New("websocket: proxy refused the CONNECT request")

// proxyAddr returns the host:port to dial for proxyURL. Only http:// proxies
// are supported (port 80 by default); SOCKS and https:// proxies give an
// error.
func proxyAddr(proxyURL *url.URL) (string, error) {
	if proxyURL.Scheme != "http" {
		return "", fmt.Errorf("websocket: proxy scheme %q is not supported (only http:// proxies are)", proxyURL.Scheme)
	}
	host := proxyURL.Hostname()
	if host == "" {
		return "", fmt.Errorf("websocket: proxy URL %q has no host", proxyURL.Redacted())
	}
	port := proxyURL.Port()
	if port == "" {
		port = "80"
	}
	return net.JoinHostPort(host, port), nil
}

// proxyConnect asks the HTTP proxy connected on nc to open a tunnel to addr
// (host:port) with CONNECT, authenticating with Basic Proxy-Authorization
// when proxyURL holds user information, and returns the tunnel. It is
// bounded by nc's deadline and does not close nc.
func proxyConnect(nc net.Conn, proxyURL *url.URL, addr string) (net.Conn, error) {
	req := &http.Request{
		Method:     http.MethodConnect,
		URL:        &url.URL{Opaque: addr},
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     make(http.Header, 1),
		Host:       addr,
	}
	if u := proxyURL.User; u != nil {
		password, _ := u.Password()
		creds := base64.StdEncoding.EncodeToString([]byte(u.Username() + ":" + password))
		req.Header["Proxy-Authorization"] = []string{"Basic " + creds}
	}
	if err := req.Write(nc); err != nil {
		return nil, fmt.Errorf("websocket: writing CONNECT request to proxy: %w", err)
	}
	head := &headLimitReader{r: nc, n: maxResponseHeadBytes}
	br := bufio.NewReader(head)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return nil, fmt.Errorf("websocket: reading proxy CONNECT response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: %s", errProxyRefused, resp.Status)
	}
	if br.Buffered() > 0 {
		// Bytes past the response already belong to the tunnel.
		head.n = -1
		return &prefixConn{Conn: nc, r: br}, nil
	}
	return nc, nil
}

// prefixConn is a net.Conn whose reads first return the bytes buffered in r
// and then read the connection through r.
type prefixConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *prefixConn) Read(p []byte) (int, error) { return c.r.Read(p) }
