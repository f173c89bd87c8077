package frame

import (
	"encoding/binary"
	"errors"
	"io"
)

// MaxHeaderSize is the largest possible encoded frame header: 2 fixed
// bytes, 8 bytes of extended length and a 4-byte masking key.
const MaxHeaderSize = 14

// MaxControlPayload is the largest payload a control frame may carry.
const MaxControlPayload = 125

// Errors returned by the header functions. They are plain sentinel values
// to be compared with errors.Is.
var (
	// ErrShortHeader means the input ended before a complete header.
	ErrShortHeader = errors.New("frame: short header")
	// ErrLengthOverflow means a 64-bit payload length had its most
	// significant bit set, which RFC 6455 forbids.
	ErrLengthOverflow = errors.New("frame: payload length overflows 63 bits")
	// ErrReservedOpcode means the frame used a reserved opcode.
	ErrReservedOpcode = errors.New("frame: reserved opcode")
	// ErrControlTooLong means a control frame payload exceeds 125 bytes.
	ErrControlTooLong = errors.New("frame: control frame payload longer than 125 bytes")
	// ErrControlFragmented means a control frame had the FIN bit clear.
	ErrControlFragmented = errors.New("frame: fragmented control frame")
	// ErrNegativeLength means a Header with a negative Length was encoded.
	ErrNegativeLength = errors.New("frame: negative payload length")
)

const (
	bitFin  = 0x80
	bitRsv1 = 0x40
	bitRsv2 = 0x20
	bitRsv3 = 0x10
	bitMask = 0x80
)

// Header is a decoded frame header.
type Header struct {
	Fin              bool    // final fragment of a message
	Rsv1, Rsv2, Rsv3 bool    // reserved bits, meaning defined by extensions
	Opcode           Opcode  // frame opcode (4 bits on the wire)
	Masked           bool    // payload is masked with Key
	Key              [4]byte // masking key, meaningful when Masked
	Length           int64   // payload length in bytes
}

// HeaderSize returns the full header size implied by the first two header
// bytes: 2, 4 or 10, plus 4 when the mask bit is set. Every input gives a
// result between 2 and MaxHeaderSize. It is safe for concurrent use.
func HeaderSize(b0, b1 byte) int {
	_ = b0
	n := 2
	switch b1 & 0x7F {
	case 126:
		n = 4
	case 127:
		n = 10
	}
	if b1&bitMask != 0 {
		n += 4
	}
	return n
}

// Size returns the number of bytes AppendHeader produces for h, using the
// minimal length encoding. A negative Length is sized as if it were 0
// (AppendHeader rejects it). It is safe for concurrent use.
func (h Header) Size() int {
	n := 2
	switch {
	case h.Length > 0xFFFF:
		n = 10
	case h.Length > 125:
		n = 4
	}
	if h.Masked {
		n += 4
	}
	return n
}

// Parse decodes a header from the start of b and returns it together with
// the number of bytes it used. If b is shorter than the header it returns
// ErrShortHeader and n = 0. A 64-bit length with the most significant bit
// set returns ErrLengthOverflow and n = 0. Parse accepts non-minimal
// length encodings and does not check opcodes, RSV bits or control-frame
// rules; see Header.Check. It is safe for concurrent use.
func Parse(b []byte) (h Header, n int, err error) {
	if len(b) < 2 {
		return Header{}, 0, ErrShortHeader
	}
	b0, b1 := b[0], b[1]
	n = HeaderSize(b0, b1)
	if len(b) < n {
		return Header{}, 0, ErrShortHeader
	}
	h.Fin = b0&bitFin != 0
	h.Rsv1 = b0&bitRsv1 != 0
	h.Rsv2 = b0&bitRsv2 != 0
	h.Rsv3 = b0&bitRsv3 != 0
	h.Opcode = Opcode(b0 & 0x0F)
	h.Masked = b1&bitMask != 0
	off := 2
	switch l := b1 & 0x7F; l {
	case 126:
		h.Length = int64(binary.BigEndian.Uint16(b[2:4]))
		off = 4
	case 127:
		u := binary.BigEndian.Uint64(b[2:10])
		if u>>63 != 0 {
			return Header{}, 0, ErrLengthOverflow
		}
		h.Length = int64(u)
		off = 10
	default:
		h.Length = int64(l)
	}
	if h.Masked {
		copy(h.Key[:], b[off:off+4])
	}
	return h, n, nil
}

// Check reports RFC 6455 violations that do not depend on connection
// state: a reserved opcode returns ErrReservedOpcode, a control frame with
// Length > 125 returns ErrControlTooLong and a control frame with Fin
// false returns ErrControlFragmented, checked in that order. RSV bits and
// masking direction are not checked here because they depend on
// negotiated extensions and on the peer's role. It returns nil for a
// valid header and is safe for concurrent use.
func (h Header) Check() error {
	if h.Opcode.IsReserved() {
		return ErrReservedOpcode
	}
	if h.Opcode.IsControl() {
		if h.Length > MaxControlPayload {
			return ErrControlTooLong
		}
		if !h.Fin {
			return ErrControlFragmented
		}
	}
	return nil
}

// AppendHeader appends the encoded header h to dst, using the minimal
// length encoding, and returns the extended slice. Only the low 4 bits of
// h.Opcode are encoded. For a negative h.Length it returns dst unchanged
// and ErrNegativeLength. It allocates only if dst lacks capacity for
// h.Size() more bytes. It is safe for concurrent use.
func AppendHeader(dst []byte, h Header) ([]byte, error) {
	if h.Length < 0 {
		return dst, ErrNegativeLength
	}
	b0 := byte(h.Opcode) & 0x0F
	if h.Fin {
		b0 |= bitFin
	}
	if h.Rsv1 {
		b0 |= bitRsv1
	}
	if h.Rsv2 {
		b0 |= bitRsv2
	}
	if h.Rsv3 {
		b0 |= bitRsv3
	}
	var b1 byte
	if h.Masked {
		b1 = bitMask
	}
	switch {
	case h.Length > 0xFFFF:
		dst = append(dst, b0, b1|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(h.Length))
	case h.Length > 125:
		dst = append(dst, b0, b1|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(h.Length))
	default:
		dst = append(dst, b0, b1|byte(h.Length))
	}
	if h.Masked {
		dst = append(dst, h.Key[:]...)
	}
	return dst, nil
}

// ReadHeader reads exactly one header from r, using buf as scratch space
// so that it does not allocate (provided r does not). It reads the two
// fixed bytes first and then exactly the remaining header bytes, never
// consuming payload. If r ends before any byte is read it returns io.EOF;
// if it ends inside the header it returns io.ErrUnexpectedEOF. Other read
// errors are returned unchanged, and a 64-bit length with the top bit set
// returns ErrLengthOverflow. ReadHeader is safe for concurrent use only
// with distinct readers and buffers.
func ReadHeader(r io.Reader, buf *[MaxHeaderSize]byte) (Header, error) {
	if _, err := io.ReadFull(r, buf[:2]); err != nil {
		return Header{}, err
	}
	n := HeaderSize(buf[0], buf[1])
	if n > 2 {
		if _, err := io.ReadFull(r, buf[2:n]); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return Header{}, err
		}
	}
	h, _, err := Parse(buf[:n])
	return h, err
}

// WriteHeader encodes h into buf and writes it to w with a single Write
// call. It returns ErrNegativeLength for a negative h.Length (writing
// nothing), otherwise any error from w, and io.ErrShortWrite if w reports
// a short write without an error. It does not allocate (provided w does
// not) and is safe for concurrent use only with distinct writers and
// buffers.
func WriteHeader(w io.Writer, h Header, buf *[MaxHeaderSize]byte) error {
	b, err := AppendHeader(buf[:0], h)
	if err != nil {
		return err
	}
	n, err := w.Write(b)
	if err == nil && n != len(b) {
		err = io.ErrShortWrite
	}
	return err
}
