package frame

import (
	"encoding/binary"
	"errors"
	"unicode/utf8"
)

// StatusCode is a close frame status code (RFC 6455 section 7.4).
type StatusCode uint16

// Status codes registered for RFC 6455 close frames.
const (
	StatusNormalClosure           StatusCode = 1000
	StatusGoingAway               StatusCode = 1001
	StatusProtocolError           StatusCode = 1002
	StatusUnsupportedData         StatusCode = 1003
	StatusNoStatusReceived        StatusCode = 1005 // never sent on the wire
	StatusAbnormalClosure         StatusCode = 1006 // never sent on the wire
	StatusInvalidFramePayloadData StatusCode = 1007
	StatusPolicyViolation         StatusCode = 1008
	StatusMessageTooBig           StatusCode = 1009
	StatusMandatoryExtension      StatusCode = 1010
	StatusInternalError           StatusCode = 1011
	StatusServiceRestart          StatusCode = 1012
	StatusTryAgainLater           StatusCode = 1013
	StatusBadGateway              StatusCode = 1014
	StatusTLSHandshake            StatusCode = 1015 // never sent on the wire
)

// MaxCloseReason is the largest close reason that fits in a control frame
// after the 2-byte status code.
const MaxCloseReason = MaxControlPayload - 2

// Errors returned by ParseClose.
var (
	// ErrClosePayloadTooShort means a close payload had exactly one byte.
	ErrClosePayloadTooShort = errors.New("frame: close payload of 1 byte")
	// ErrInvalidCloseCode means a received close code may not appear on the wire.
	ErrInvalidCloseCode = errors.New("frame: invalid close status code")
	// ErrInvalidCloseReason means a close reason was not valid UTF-8.
	ErrInvalidCloseReason = errors.New("frame: close reason is not valid UTF-8")
)

// String returns a short name for c: the registered name such as
// "NormalClosure", "Registered(3000-3999)" or "Private(4000-4999)" for the
// application ranges, and "Unknown" for anything else. It never allocates
// and is safe for concurrent use.
func (c StatusCode) String() string {
	switch c {
	case StatusNormalClosure:
		return "NormalClosure"
	case StatusGoingAway:
		return "GoingAway"
	case StatusProtocolError:
		return "ProtocolError"
	case StatusUnsupportedData:
		return "UnsupportedData"
	case StatusNoStatusReceived:
		return "NoStatusReceived"
	case StatusAbnormalClosure:
		return "AbnormalClosure"
	case StatusInvalidFramePayloadData:
		return "InvalidFramePayloadData"
	case StatusPolicyViolation:
		return "PolicyViolation"
	case StatusMessageTooBig:
		return "MessageTooBig"
	case StatusMandatoryExtension:
		return "MandatoryExtension"
	case StatusInternalError:
		return "InternalError"
	case StatusServiceRestart:
		return "ServiceRestart"
	case StatusTryAgainLater:
		return "TryAgainLater"
	case StatusBadGateway:
		return "BadGateway"
	case StatusTLSHandshake:
		return "TLSHandshake"
	}
	switch {
	case c >= 3000 && c <= 3999:
		return "Registered(3000-3999)"
	case c >= 4000 && c <= 4999:
		return "Private(4000-4999)"
	}
	return "Unknown"
}

// ValidOnWire reports whether c may appear in a received close frame:
// 1000-1003, 1007-1014 and 3000-4999. All other values (0-999, 1004,
// 1005, 1006, 1015, 1016-2999, 5000 and above) return false. It is safe
// for concurrent use.
func (c StatusCode) ValidOnWire() bool {
	switch {
	case c >= 1000 && c <= 1003:
		return true
	case c >= 1007 && c <= 1014:
		return true
	case c >= 3000 && c <= 4999:
		return true
	}
	return false
}

// ParseClose decodes a close frame payload. An empty payload returns
// StatusNoStatusReceived, a nil reason and a nil error. Errors, checked in
// this order: a payload longer than 125 bytes returns ErrControlTooLong
// (code 0, nil reason); a 1-byte payload returns ErrClosePayloadTooShort;
// a code that is not ValidOnWire returns ErrInvalidCloseCode together with
// the decoded code and reason; a reason that is not valid UTF-8 returns
// ErrInvalidCloseReason together with the code and reason. The returned
// reason aliases payload and is only valid as long as payload is not
// modified or reused. ParseClose does not allocate and is safe for
// concurrent use.
func ParseClose(payload []byte) (code StatusCode, reason []byte, err error) {
	switch {
	case len(payload) > MaxControlPayload:
		return 0, nil, ErrControlTooLong
	case len(payload) == 0:
		return StatusNoStatusReceived, nil, nil
	case len(payload) == 1:
		return 0, nil, ErrClosePayloadTooShort
	}
	code = StatusCode(binary.BigEndian.Uint16(payload))
	reason = payload[2:]
	if !code.ValidOnWire() {
		return code, reason, ErrInvalidCloseCode
	}
	if !utf8.Valid(reason) {
		return code, reason, ErrInvalidCloseReason
	}
	return code, reason, nil
}

// AppendClose appends a close frame payload to dst and returns the
// extended slice: the 2-byte big-endian code followed by reason truncated
// to at most MaxCloseReason (123) bytes at a UTF-8 rune boundary. For
// StatusNoStatusReceived it appends nothing (an empty payload). AppendClose
// does not validate code or the UTF-8 of reason; bytes of an invalid
// reason are copied as they are (truncation still never splits a valid
// rune). It allocates only if dst lacks capacity and is safe for
// concurrent use.
func AppendClose(dst []byte, code StatusCode, reason string) []byte {
	if code == StatusNoStatusReceived {
		return dst
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	if len(reason) > MaxCloseReason {
		n := MaxCloseReason
		// Back up over continuation bytes to the start of the rune that
		// straddles the limit, at most 3 bytes.
		for i := 0; i < utf8.UTFMax-1 && n > 0 && !utf8.RuneStart(reason[n]); i++ {
			n--
		}
		reason = reason[:n]
	}
	return append(dst, reason...)
}
