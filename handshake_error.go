package websocket

import (
	"errors"
	"net/http"
	"strconv"
)

// Causes of a failed server handshake. Upgrader.Upgrade wraps them in a
// *HandshakeError (often with more detail); test for them with errors.Is.
var (
	// ErrBadMethod: the request method is not GET. Answered with 405 and
	// "Allow: GET".
	ErrBadMethod = errors.New("websocket: handshake request method is not GET")

	// ErrMissingUpgrade: the request does not ask for a WebSocket upgrade.
	// Answered with 426 and "Upgrade: websocket" when the request has no
	// Upgrade header at all (a plain HTTP request), otherwise with 400 (the
	// Upgrade header lacks "websocket" or the Connection header lacks
	// "upgrade").
	ErrMissingUpgrade = errors.New("websocket: request is not a WebSocket upgrade")

	// ErrBadVersion: Sec-WebSocket-Version is missing or not exactly "13".
	// Answered with 426 and "Sec-WebSocket-Version: 13".
	ErrBadVersion = errors.New("websocket: unsupported Sec-WebSocket-Version (want 13)")

	// ErrBadKey: Sec-WebSocket-Key is missing, repeated, or not the padded
	// base64 encoding of 16 bytes. Answered with 400.
	ErrBadKey = errors.New("websocket: missing or invalid Sec-WebSocket-Key")

	// ErrRequestBody: the request announces a body (a Content-Length other
	// than 0, or any Transfer-Encoding). Answered with 400. A handshake
	// request has no body, and the bytes of one would otherwise be read as
	// the start of the WebSocket stream: a client or an intermediary could
	// slip frames past whatever inspected the HTTP request. Over HTTP/2
	// (RFC 8441) the request body is the stream, and this check does not
	// apply.
	ErrRequestBody = errors.New("websocket: handshake request has a body")

	// ErrOriginDenied: the origin check (Upgrader.CheckOrigin) refused the
	// request. Answered with 403.
	ErrOriginDenied = errors.New("websocket: request origin not allowed")

	// ErrBadResponseHeader: the 101 response would hold a header the library
	// sets itself or a header name or value that is not valid (CR, LF, NUL
	// and other control bytes, or a name that is not a token). Answered with
	// 500; nothing is written on the connection.
	ErrBadResponseHeader = errors.New("websocket: invalid handshake response header")

	// ErrHijackUnsupported: the http.ResponseWriter (and every writer it
	// unwraps to) cannot hijack the connection, as with HTTP/2. Answered with
	// 500. The wrapping error also wraps the http.ErrNotSupported error the
	// hijack attempt returned.
	ErrHijackUnsupported = errors.New("websocket: response writer does not support hijacking")
)

// HandshakeError is returned by Upgrader.Upgrade when it refused the request
// with an HTTP error response. Status is the status code that was answered
// through the http.ResponseWriter (by Upgrader.Error when it is set); the
// connection was not hijacked. Err is the cause: it is, or wraps, one of the
// Err... variables of this package, so callers test it with errors.Is, and
// find the HandshakeError itself with errors.As.
//
// Failures after the connection was hijacked (writing the 101 response) are
// not HandshakeErrors: no HTTP status could be answered, and Upgrade closed
// the connection.
type HandshakeError struct {
	// Status is the HTTP status code of the error response.
	Status int
	// Err is the cause of the failure.
	Err error
}

// Error describes the cause and the status that was answered.
func (e *HandshakeError) Error() string {
	msg := "websocket: handshake failed"
	if e.Err != nil {
		msg = e.Err.Error()
	}
	return msg + " (answered " + strconv.Itoa(e.Status) + " " + http.StatusText(e.Status) + ")"
}

// Unwrap returns the cause, for errors.Is and errors.As.
func (e *HandshakeError) Unwrap() error { return e.Err }
