package websocket

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"time"
)

// respond takes the result of hijacking r's connection, writes the 101
// response described by resp and returns the new Conn. A failure to hijack
// is answered through w with 500 (HandshakeError); a failure after the
// hijack closes the connection.
//
//go:noinline
func (u *Upgrader) respond(w http.ResponseWriter, r *http.Request, resp *handshakeResponse, nc net.Conn, brw *bufio.ReadWriter, err error) (*Conn, error) {
	if err != nil {
		switch {
		case errors.Is(err, http.ErrHijacked):
			// Someone else owns the connection: no response can be sent.
			return nil, fmt.Errorf("websocket: hijacking the connection: %w", err)
		case errors.Is(err, http.ErrNotSupported):
			return u.reject(w, r, http.StatusInternalServerError, fmt.Errorf("%w: %w", ErrHijackUnsupported, err))
		default:
			return u.reject(w, r, http.StatusInternalServerError, fmt.Errorf("websocket: hijacking the connection: %w", err))
		}
	}
	if nc == nil {
		return nil, errors.New("websocket: Hijack returned a nil net.Conn")
	}
	ok := false
	defer func() {
		if !ok {
			nc.Close()
		}
	}()

	// The server's read and write deadlines may still be set; net/http's
	// Hijacker contract leaves clearing them to us.
	if err := nc.SetDeadline(time.Time{}); err != nil {
		return nil, fmt.Errorf("websocket: clearing connection deadlines: %w", err)
	}
	var br *bufio.Reader
	var buf []byte
	if brw != nil {
		br = brw.Reader
		if bw := brw.Writer; bw != nil {
			// Anything already buffered must precede the response, and
			// the emptied buffer then holds the response without an
			// allocation. The writer is not used after this.
			if bw.Buffered() > 0 {
				if err := bw.Flush(); err != nil {
					return nil, fmt.Errorf("websocket: flushing hijacked writer: %w", err)
				}
			}
			buf = bw.AvailableBuffer()
		}
	}
	buf = appendHandshakeResponse(buf, *resp)

	if u.HandshakeTimeout > 0 {
		if err := nc.SetWriteDeadline(time.Now().Add(u.HandshakeTimeout)); err != nil {
			return nil, fmt.Errorf("websocket: setting handshake write deadline: %w", err)
		}
	}
	if _, err := nc.Write(buf); err != nil {
		return nil, fmt.Errorf("websocket: writing handshake response: %w", err)
	}
	if brw != nil && brw.Writer != nil {
		// brw.Writer is net/http's own connection writer: net/http keeps
		// it (and its 4 KiB buffer) as long as the handler runs, but never
		// uses it after a hijack. Dropping its buffer saves that memory
		// for the connection's lifetime.
		*brw.Writer = bufio.Writer{}
	}
	if u.HandshakeTimeout > 0 {
		if err := nc.SetWriteDeadline(time.Time{}); err != nil {
			return nil, fmt.Errorf("websocket: clearing handshake write deadline: %w", err)
		}
	}

	ok = true
	return u.serverConn(nc, resp, br)
}

// serverConn makes the Conn of an accepted handshake, over a hijacked
// connection (br holds what net/http buffered) or an HTTP/2 stream (br is
// nil), and tracks it for Shutdown.
func (u *Upgrader) serverConn(nc net.Conn, resp *handshakeResponse, br *bufio.Reader) (*Conn, error) {
	cfg := connConfig{
		isServer:        true,
		subprotocol:     resp.subprotocol,
		readBufferSize:  u.ReadBufferSize,
		writeBufferSize: u.WriteBufferSize,
		writeBufferPool: u.WriteBufferPool,
		noCoalesce:      u.DisableWriteCoalescing,
		br:              br,
		compress:        resp.compress,
	}
	var c *Conn
	if newConnHook != nil {
		c = newConnHook(u, nc, cfg)
	} else {
		c = newConn(nc, cfg)
	}
	if c == nil {
		return nil, errors.New("websocket: test hook returned no Conn")
	}
	return u.track(c)
}

// newConnHook, when non-nil, replaces newConn for server connections. It is
// nil outside tests; the package's TestMain sets it to observe (or replace)
// the Conn a given Upgrader makes.
var newConnHook func(u *Upgrader, nc net.Conn, cfg connConfig) *Conn

// appendHandshakeResponse appends the complete 101 Switching Protocols
// response for resp to dst. Every part was validated by prepareResponse.
// Extra header keys are written in sorted order, each value on its own line.
func appendHandshakeResponse(dst []byte, resp handshakeResponse) []byte {
	dst = append(dst, "HTTP/1.1 101 Switching Protocols\r\n"+
		"Upgrade: websocket\r\n"+
		"Connection: Upgrade\r\n"+
		"Sec-WebSocket-Accept: "...)
	dst = appendAcceptKey(dst, resp.key)
	dst = append(dst, "\r\n"...)
	if resp.subprotocol != "" {
		dst = append(dst, "Sec-WebSocket-Protocol: "...)
		dst = append(dst, resp.subprotocol...)
		dst = append(dst, "\r\n"...)
	}
	if resp.extensions != "" {
		dst = append(dst, "Sec-WebSocket-Extensions: "...)
		dst = append(dst, resp.extensions...)
		dst = append(dst, "\r\n"...)
	}
	slices.Sort(resp.headerKeys)
	for _, k := range resp.headerKeys {
		for _, v := range resp.header[k] {
			dst = append(dst, k...)
			dst = append(dst, ": "...)
			dst = append(dst, v...)
			dst = append(dst, "\r\n"...)
		}
	}
	return append(dst, "\r\n"...)
}
