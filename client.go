package websocket

import (
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
