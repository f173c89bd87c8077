package websocket

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// clientRequest is a handshake request ready to be sent, with what checking
// the response needs.
type clientRequest struct {
	req        *http.Request // URL scheme http or https
	addr       string        // host:port of the server
	serverName string        // host name for TLS
	secure     bool          // wss
	key        string        // Sec-WebSocket-Key
	protocols  []string      // subprotocols requested
	// offerDeflate is set when the request offers permessage-deflate.
	offerDeflate bool
}

// reservedRequestHeaders are set by the handshake; requestHeader must not
// hold them.
var reservedRequestHeaders = [...]string{hdrUpgrade, hdrConnection, hdrWSKey, hdrWSVersion, hdrWSExtensions}

// newClientRequest parses urlStr and builds the handshake request. It does
// no I/O. Errors wrap errMalformedURL or errBadRequestHeader.
func newClientRequest(urlStr string, requestHeader http.Header, subprotocols []string) (*clientRequest, error) {
	u, err := url.Parse(urlStr)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errMalformedURL, err)
	}
	cr := &clientRequest{}
	port := "80"
	switch u.Scheme {
	case "ws", "http":
		u.Scheme = "http"
	case "wss", "https":
		u.Scheme = "https"
		cr.secure = true
		port = "443"
	default:
		return nil, fmt.Errorf("%w: scheme %q is not ws, wss, http or https", errMalformedURL, u.Scheme)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%w: user information is not allowed in a WebSocket URL", errMalformedURL)
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return nil, fmt.Errorf("%w: %q has no host", errMalformedURL, urlStr)
	}
	if p := u.Port(); p != "" {
		port = p
	}
	// Fragments mean nothing in a WebSocket URL (RFC 6455 section 3).
	u.Fragment, u.RawFragment = "", ""
	cr.serverName = u.Hostname()
	cr.addr = net.JoinHostPort(cr.serverName, port)

	cr.req = &http.Request{
		Method:     http.MethodGet,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     make(http.Header, len(requestHeader)+5),
		Host:       u.Host,
	}
	for k, vs := range requestHeader {
		if problem := checkHeaderField(k, vs, reservedRequestHeaders[:], "the handshake"); problem != "" {
			return nil, fmt.Errorf("%w: %s", errBadRequestHeader, problem)
		}
		switch {
		case asciiEqualFold(k, "Host"):
			if len(vs) > 0 {
				cr.req.Host = vs[0]
			}
		case asciiEqualFold(k, hdrWSProtocol):
			if len(subprotocols) > 0 {
				return nil, fmt.Errorf("%w: Sec-WebSocket-Protocol given both in the header and in Dialer.Subprotocols", errBadRequestHeader)
			}
			for _, v := range vs {
				for v != "" {
					var p string
					p, v = nextListElement(v)
					if !isToken(p) {
						return nil, fmt.Errorf("%w: subprotocol %q is not a token", errBadRequestHeader, p)
					}
					cr.protocols = append(cr.protocols, p)
				}
			}
			cr.req.Header["Sec-WebSocket-Protocol"] = vs
		default:
			cr.req.Header[k] = vs
		}
	}
	for _, p := range subprotocols {
		if !isToken(p) {
			return nil, fmt.Errorf("%w: subprotocol %q is not a token", errBadRequestHeader, p)
		}
	}
	if len(subprotocols) > 0 {
		cr.protocols = subprotocols
		cr.req.Header["Sec-WebSocket-Protocol"] = []string{strings.Join(subprotocols, ", ")}
	}

	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, fmt.Errorf("websocket: generating Sec-WebSocket-Key: %w", err)
	}
	cr.key = base64.StdEncoding.EncodeToString(raw[:])
	// The RFC's capitalization, which some servers expect.
	cr.req.Header["Upgrade"] = []string{"websocket"}
	cr.req.Header["Connection"] = []string{"Upgrade"}
	cr.req.Header["Sec-WebSocket-Key"] = []string{cr.key}
	cr.req.Header["Sec-WebSocket-Version"] = []string{"13"}
	return cr, nil
}

// checkResponse checks that resp accepts the handshake request cr and
// returns the subprotocol it selected. Errors wrap ErrBadHandshake.
func checkResponse(resp *http.Response, cr *clientRequest) (subprotocol string, err error) {
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return "", fmt.Errorf("%w: status %q, want 101", ErrBadHandshake, resp.Status)
	}
	if !headerHasToken(resp.Header, hdrUpgrade, "websocket") {
		return "", fmt.Errorf("%w: Upgrade header does not list websocket", ErrBadHandshake)
	}
	if !headerHasToken(resp.Header, hdrConnection, "upgrade") {
		return "", fmt.Errorf("%w: Connection header does not list upgrade", ErrBadHandshake)
	}
	if accept := resp.Header[hdrWSAccept]; len(accept) != 1 || accept[0] != computeAcceptKey(cr.key) {
		return "", fmt.Errorf("%w: missing or wrong Sec-WebSocket-Accept", ErrBadHandshake)
	}
	switch protocols := resp.Header[hdrWSProtocol]; {
	case len(protocols) > 1:
		return "", fmt.Errorf("%w: more than one Sec-WebSocket-Protocol header", ErrBadHandshake)
	case len(protocols) == 1 && protocols[0] != "":
		subprotocol = protocols[0]
		if !slices.Contains(cr.protocols, subprotocol) {
			return "", fmt.Errorf("%w: server selected subprotocol %q, which was not requested", ErrBadHandshake, subprotocol)
		}
	}
	if headerHasAnyElement(resp.Header, hdrWSExtensions) && !cr.offerDeflate {
		return "", fmt.Errorf("%w: server accepted an extension that was not offered", ErrBadHandshake)
	}
	return subprotocol, nil
}

// headLimitReader reads from r but fails with errResponseTooLarge once n
// bytes were read. A negative n means no limit.
type headLimitReader struct {
	r io.Reader
	n int64
}

func (l *headLimitReader) Read(p []byte) (int, error) {
	if l.n < 0 {
		return l.r.Read(p)
	}
	if l.n == 0 {
		return 0, errResponseTooLarge
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}
