package websocket

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
)

// NewClient runs the client side of the opening handshake over netConn, a
// connection the caller already opened to the server, and returns the
// WebSocket connection built on it. u gives the scheme, host and request
// URI: for wss:// (or https://) the TLS handshake runs over netConn with a
// zero tls.Config whose server name is u's host name; for ws:// (or
// http://) the handshake is sent as is. No proxy is used. requestHeader is
// as for Dialer.DialContext; readBufSize and writeBufSize are the Conn's
// buffer sizes (zero or less selects the default).
//
// There is no timeout: set a deadline on netConn beforehand to bound the
// handshake (a successful handshake clears it). A refused handshake returns
// ErrBadHandshake itself with the server's *http.Response, as Dial does.
// Once netConn is used, every error closes it; an invalid u (nil, or not
// ws, wss, http or https) or requestHeader is reported before netConn is
// used, and leaves it open. A nil netConn gives an error. NewClient may be
// called concurrently for different connections.
//
// Deprecated: Use Dialer instead (with NetDialContext returning the
// connection, when it is already open). Kept for gorilla/websocket
// compatibility.
func NewClient(netConn net.Conn, u *url.URL, requestHeader http.Header, readBufSize, writeBufSize int) (c *Conn, response *http.Response, err error) {
	if u == nil {
		return nil, nil, fmt.Errorf("%w: nil URL", errMalformedURL)
	}
	if netConn == nil {
		return nil, nil, errors.New("websocket: NewClient called with a nil net.Conn")
	}
	d := Dialer{
		ReadBufferSize:  readBufSize,
		WriteBufferSize: writeBufSize,
		NetDial: func(string, string) (net.Conn, error) {
			return netConn, nil
		},
	}
	return d.Dial(u.String(), requestHeader)
}

// refusedBody is the Body of a refused handshake response: the kept bytes
// of the server's body, and why the response was refused.
type refusedBody struct {
	*bytes.Reader
	reason error // wraps ErrBadHandshake; set before the dial returns
}

// Close does nothing: the bytes are in memory.
func (*refusedBody) Close() error { return nil }

// BadHandshakeReason returns why a dial refused the server's handshake
// response resp, when Dialer.DialContext (or Dial, or NewClient) returned
// ErrBadHandshake together with resp: an error wrapping ErrBadHandshake
// whose text names the failed check, such as the status, a missing Upgrade
// or Connection token, a wrong Sec-WebSocket-Accept, a subprotocol or
// extension the client did not offer, or invalid extension parameters. It
// returns nil for a nil resp, for a response of a successful dial or of
// another failure, and for a resp whose Body the caller replaced. It only
// reads resp and is safe for concurrent use.
func BadHandshakeReason(resp *http.Response) error {
	if resp == nil {
		return nil
	}
	if rb, ok := resp.Body.(*refusedBody); ok {
		return rb.reason
	}
	return nil
}
