package websocket

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/wsup/websocket/frame"
)

// Close status codes, as in RFC 6455 section 7.4.1 and the IANA registry.
// The values match gorilla/websocket's constants.
const (
	CloseNormalClosure           = 1000
	CloseGoingAway               = 1001
	CloseProtocolError           = 1002
	CloseUnsupportedData         = 1003
	CloseNoStatusReceived        = 1005
	CloseAbnormalClosure         = 1006
	CloseInvalidFramePayloadData = 1007
	ClosePolicyViolation         = 1008
	CloseMessageTooBig           = 1009
	CloseMandatoryExtension      = 1010
	CloseInternalServerErr       = 1011
	CloseServiceRestart          = 1012
	CloseTryAgainLater           = 1013
	CloseTLSHandshake            = 1015
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
	// not accept (data writers take TextMessage or BinaryMessage, WriteControl
	// takes CloseMessage, PingMessage or PongMessage).
	ErrBadMessageType = errors.New("websocket: bad message type")

	// ErrControlTooLong is returned by WriteControl for a payload over 125
	// bytes, the RFC 6455 limit for control frames.
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
// its reason. Match it with errors.As, IsCloseError or
// IsUnexpectedCloseError.
type CloseError struct {
	Code int
	Text string
}

// Error describes the close frame.
func (e *CloseError) Error() string {
	s := "websocket: close " + strconv.Itoa(e.Code)
	if e.Code >= 0 && e.Code <= 0xffff {
		s += " (" + frame.StatusCode(e.Code).String() + ")"
	}
	if e.Text != "" {
		s += ": " + e.Text
	}
	return s
}

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
