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
// proxy refuses to connect: an HTTP proxy answers CONNECT with a status
// other than 200, or a SOCKS5 proxy with a failure reply.
var errProxyRefused = errors.New("websocket: proxy refused the CONNECT request")

// proxyAddr returns the host:port to dial for proxyURL. http:// proxies
// (port 80 by default) and socks5:// or socks5h:// proxies (port 1080 by
// default) are supported; other schemes, https:// included, give an error.
func proxyAddr(proxyURL *url.URL) (string, error) {
	var port string
	switch proxyURL.Scheme {
	case "http":
		port = "80"
	case "socks5", "socks5h":
		port = socksDefaultPort
	default:
		return "", fmt.Errorf("websocket: proxy scheme %q is not supported (only http://, socks5:// and socks5h:// proxies are)", proxyURL.Scheme)
	}
	host := proxyURL.Hostname()
	if host == "" {
		return "", fmt.Errorf("websocket: proxy URL %q has no host", proxyURL.Redacted())
	}
	if p := proxyURL.Port(); p != "" {
		port = p
	}
	return net.JoinHostPort(host, port), nil
}

// proxyTunnel opens, through the proxy connected on nc, a tunnel to addr
// (host:port) with the proxy's protocol, and returns it. proxyURL passed
// proxyAddr. It is bounded by nc's deadline and does not close nc.
func proxyTunnel(nc net.Conn, proxyURL *url.URL, addr string) (net.Conn, error) {
	if proxyURL.Scheme == "http" {
		return proxyConnect(nc, proxyURL, addr)
	}
	if err := socksConnect(nc, proxyURL, addr); err != nil {
		return nil, err
	}
	return nc, nil
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
