package websocket

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/wsup/websocket/frame"
)

// Close status codes (RFC 6455 section 7.4.1), under gorilla/websocket's
// names and with its values. They are defined once, in the frame package:
// each is the int value of the frame.StatusCode of the same meaning
// (CloseInternalServerErr is frame.StatusInternalError). frame also names
// 1014, frame.StatusBadGateway.
const (
	CloseNormalClosure           = int(frame.StatusNormalClosure)
	CloseGoingAway               = int(frame.StatusGoingAway)
	CloseProtocolError           = int(frame.StatusProtocolError)
	CloseUnsupportedData         = int(frame.StatusUnsupportedData)
	CloseNoStatusReceived        = int(frame.StatusNoStatusReceived)
	CloseAbnormalClosure         = int(frame.StatusAbnormalClosure)
	CloseInvalidFramePayloadData = int(frame.StatusInvalidFramePayloadData)
	ClosePolicyViolation         = int(frame.StatusPolicyViolation)
	CloseMessageTooBig           = int(frame.StatusMessageTooBig)
	CloseMandatoryExtension      = int(frame.StatusMandatoryExtension)
	CloseInternalServerErr       = int(frame.StatusInternalError)
	CloseServiceRestart          = int(frame.StatusServiceRestart)
	CloseTryAgainLater           = int(frame.StatusTryAgainLater)
	CloseTLSHandshake            = int(frame.StatusTLSHandshake)
)

var (
	// ErrCloseSent is returned by a write after a close frame was sent: the
	// closing handshake has begun and RFC 6455 allows no more data frames.
	ErrCloseSent = errors.New("websocket: close sent")

	// ErrReadLimit is returned by a read when the peer's message is larger
	// than the read limit (see Conn.SetReadLimit). The connection has been
	// closed with status 1009.
	ErrReadLimit = errors.New("websocket: read limit exceeded")

	// ErrProtocol is wrapped by the error a read returns when the peer broke
	// RFC 6455 framing rules (unmasked client frame, reserved bits or
	// opcodes, bad fragmentation, bad close frame...). The connection has
	// been closed with status 1002.
	ErrProtocol = errors.New("websocket: protocol error")

	// ErrInvalidUTF8 is wrapped by the error a read returns when a text
	// message or a close reason is not valid UTF-8. The connection has been
	// closed with status 1007.
	ErrInvalidUTF8 = errors.New("websocket: invalid UTF-8")

	// errInvalidText is the read error for a text message that is not
	// UTF-8; it wraps ErrInvalidUTF8.
	errInvalidText = fmt.Errorf("%w in text message", ErrInvalidUTF8)

	// ErrCompression is wrapped by the error a read returns when a
	// compressed message is not valid DEFLATE data. The connection has been
	// closed with status 1007.
	ErrCompression = errors.New("websocket: corrupt compressed message")

	// ErrBadMessageType is returned by a write given a message type it does
	// not accept: WriteMessage, NextWriter and NewPreparedMessage take the
	// five message types, WriteControl only CloseMessage, PingMessage and
	// PongMessage.
	ErrBadMessageType = errors.New("websocket: bad message type")

	// ErrControlTooLong is returned by WriteControl, WriteMessage,
	// NewPreparedMessage and a control message's NextWriter writer for a
	// payload over 125 bytes, the RFC 6455 limit for control frames.
	ErrControlTooLong = errors.New("websocket: control frame payload over 125 bytes")

	// errWriteTimeout is returned by WriteControl when the write lock could
	// not be taken before the deadline.
	errWriteTimeout = &timeoutError{}
)

// timeoutError is a net.Error that reports a timeout.
type timeoutError struct{}

func (*timeoutError) Error() string   { return "websocket: write timeout" }
func (*timeoutError) Timeout() bool   { return true }
func (*timeoutError) Temporary() bool { return true }

// CloseError is returned by a read when the peer sent a close frame. Code is
// the status code it sent (CloseNoStatusReceived when it sent none) and Text
// its reason. When the peer's connection ended without a close frame, in a
// frame or between two, the read returns a CloseError with
// CloseAbnormalClosure and Text "unexpected EOF", as gorilla/websocket
// does; that one also wraps io.ErrUnexpectedEOF, for errors.Is. Match it
// with errors.As (target *CloseError), IsCloseError or
// IsUnexpectedCloseError.
type CloseError struct {
	Code int
	Text string

	// cause is what an abnormal closure stands for (io.ErrUnexpectedEOF);
	// nil for a close frame received.
	cause error
}

// closeCodeNames are the descriptions gorilla/websocket's CloseError.Error
// gives the codes it names.
var closeCodeNames = map[int]string{
	CloseNormalClosure:           "normal",
	CloseGoingAway:               "going away",
	CloseProtocolError:           "protocol error",
	CloseUnsupportedData:         "unsupported data",
	CloseNoStatusReceived:        "no status",
	CloseAbnormalClosure:         "abnormal closure",
	CloseInvalidFramePayloadData: "invalid payload data",
	ClosePolicyViolation:         "policy violation",
	CloseMessageTooBig:           "message too big",
	CloseMandatoryExtension:      "mandatory extension missing",
	CloseInternalServerErr:       "internal server error",
	CloseTLSHandshake:            "TLS handshake error",
}

// Error describes the close with the same text as gorilla/websocket:
// "websocket: close 1000 (normal)", the description left out for codes
// without one (1012, 1013, 4000...), and ": " and Text appended when Text
// is not empty.
func (e *CloseError) Error() string {
	s := "websocket: close " + strconv.Itoa(e.Code)
	if name, ok := closeCodeNames[e.Code]; ok {
		s += " (" + name + ")"
	}
	if e.Text != "" {
		s += ": " + e.Text
	}
	return s
}

// Unwrap returns io.ErrUnexpectedEOF for an abnormal closure reported by a
// read (the connection ended without a close frame), else nil.
func (e *CloseError) Unwrap() error { return e.cause }

// IsCloseError reports whether err is, or wraps, a *CloseError with one of
// the given codes.
func IsCloseError(err error, codes ...int) bool {
	var ce *CloseError
	if !errors.As(err, &ce) {
		return false
	}
	for _, code := range codes {
		if ce.Code == code {
			return true
		}
	}
	return false
}

// IsUnexpectedCloseError reports whether err is, or wraps, a *CloseError
// whose code is not among expectedCodes.
func IsUnexpectedCloseError(err error, expectedCodes ...int) bool {
	var ce *CloseError
	if !errors.As(err, &ce) {
		return false
	}
	for _, code := range expectedCodes {
		if ce.Code == code {
			return false
		}
	}
	return true
}

// FormatCloseMessage returns the payload of a close frame with the given
// status code and reason, for WriteControl(CloseMessage, ...). The reason is
// cut to 123 bytes at a UTF-8 boundary, the most a control frame can carry.
// CloseNoStatusReceived gives an empty payload, as RFC 6455 requires (that
// code must not appear on the wire).
func FormatCloseMessage(closeCode int, text string) []byte {
	if closeCode == CloseNoStatusReceived {
		return []byte{}
	}
	return frame.AppendClose(make([]byte, 0, 2+len(text)), frame.StatusCode(closeCode), text)
}

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

// ErrBadHandshake is the error Dialer.DialContext (and Dial, and
// NewClient) returns, unwrapped as gorilla/websocket does, when the
// server's answer to the opening handshake is not an acceptable 101
// Switching Protocols response: another status, a missing "Upgrade:
// websocket" or "Connection: upgrade" token, a wrong Sec-WebSocket-Accept,
// a subprotocol the client did not request, an extension the client did
// not offer (the Dialer offers permessage-deflate only when
// EnableCompression is set), or invalid permessage-deflate parameters. The
// server's *http.Response is returned with it, and BadHandshakeReason
// returns the detail. Both err == ErrBadHandshake and errors.Is work.
var ErrBadHandshake = errors.New("websocket: bad handshake")

// Reasons the connection was closed from this side, returned by reads.
var (
	// ErrKeepaliveTimeout is the read error after keepalive closed a
	// connection whose peer did not answer a ping in time.
	ErrKeepaliveTimeout = errors.New("websocket: peer did not answer keepalive ping")
	// ErrIdleTimeout is the read error after keepalive closed a connection
	// on which no data message went either way for the idle timeout.
	ErrIdleTimeout = errors.New("websocket: connection idle too long")
)

// ErrShuttingDown is the reason of the 503 answered to handshakes that
// arrive after Upgrader.Shutdown began, and the read error of connections
// that Shutdown closed.
var ErrShuttingDown = errors.New("websocket: server shutting down")

// HandshakeError is returned by Upgrader.Upgrade when it refused the request
// with an HTTP error response. It is a value type, as in gorilla/websocket:
// err.(HandshakeError) works, and so does errors.As with a HandshakeError
// target. Status is the status code that was answered through the
// http.ResponseWriter (by Upgrader.Error when it is set); the connection
// was not hijacked. Err is the cause: it is, or wraps, one of the Err...
// variables of this package, so callers test it with errors.Is.
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
func (e HandshakeError) Error() string {
	msg := "websocket: handshake failed"
	if e.Err != nil {
		msg = e.Err.Error()
	}
	return msg + " (answered " + strconv.Itoa(e.Status) + " " + http.StatusText(e.Status) + ")"
}

// Unwrap returns the cause, for errors.Is and errors.As.
func (e HandshakeError) Unwrap() error { return e.Err }

// As lets errors.As fill a *HandshakeError target too (code written when
// HandshakeError was returned as a pointer): it sets the target to a copy
// of e. It reports false for any other target.
func (e HandshakeError) As(target any) bool {
	if p, ok := target.(**HandshakeError); ok && p != nil {
		c := e
		*p = &c
		return true
	}
	return false
}
