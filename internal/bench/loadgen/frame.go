package loadgen

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// WebSocket opcodes (RFC 6455 section 5.2) used by the generator.
const (
	opContinuation byte = 0x0
	opText         byte = 0x1
	opBinary       byte = 0x2
	opClose        byte = 0x8
	opPing         byte = 0x9
	opPong         byte = 0xA
)

// maxFrameLen bounds the payload length the generator accepts in one server
// frame; nothing in the built-in workloads comes close.
const maxFrameLen = 16 << 20

// errShortHeader reports that more bytes are needed to parse a frame header.
var errShortHeader = errors.New("loadgen: short frame header")

// header is a parsed server-to-client frame header.
type header struct {
	fin    bool
	rsv1   bool
	opcode byte
	length int
}

// parseHeader parses the frame header at the start of b as sent by a server
// (unmasked). It returns the header and its encoded size, errShortHeader when
// b holds only part of a header, or a descriptive error for frames a server
// must not send. It never panics and is safe for concurrent use.
func parseHeader(b []byte) (header, int, error) {
	if len(b) < 2 {
		return header{}, 0, errShortHeader
	}
	h := header{
		fin:    b[0]&0x80 != 0,
		rsv1:   b[0]&0x40 != 0,
		opcode: b[0] & 0x0F,
	}
	if b[0]&0x30 != 0 {
		return header{}, 0, fmt.Errorf("loadgen: reserved bits RSV2/RSV3 set (byte 0x%02x)", b[0])
	}
	switch h.opcode {
	case opContinuation, opText, opBinary, opClose, opPing, opPong:
	default:
		return header{}, 0, fmt.Errorf("loadgen: reserved opcode 0x%x", h.opcode)
	}
	if b[1]&0x80 != 0 {
		return header{}, 0, errors.New("loadgen: server frame is masked")
	}
	n := 2
	switch l := b[1] & 0x7F; l {
	case 126:
		if len(b) < 4 {
			return header{}, 0, errShortHeader
		}
		h.length = int(binary.BigEndian.Uint16(b[2:4]))
		n = 4
	case 127:
		if len(b) < 10 {
			return header{}, 0, errShortHeader
		}
		v := binary.BigEndian.Uint64(b[2:10])
		if v > maxFrameLen {
			return header{}, 0, fmt.Errorf("loadgen: frame length %d exceeds limit %d", v, maxFrameLen)
		}
		h.length = int(v)
		n = 10
	default:
		h.length = int(l)
	}
	if h.length > maxFrameLen {
		return header{}, 0, fmt.Errorf("loadgen: frame length %d exceeds limit %d", h.length, maxFrameLen)
	}
	if h.opcode >= opClose {
		if !h.fin {
			return header{}, 0, errors.New("loadgen: fragmented control frame")
		}
		if h.length > 125 {
			return header{}, 0, fmt.Errorf("loadgen: control frame payload %d > 125", h.length)
		}
		if h.rsv1 {
			return header{}, 0, errors.New("loadgen: RSV1 set on control frame")
		}
	}
	return h, n, nil
}

// appendClientFrame appends one complete, final, masked client frame carrying
// payload to dst and returns the extended slice. rsv1 marks a compressed
// message. It is safe for concurrent use with distinct dst slices.
func appendClientFrame(dst []byte, opcode byte, rsv1 bool, payload []byte, key [4]byte) []byte {
	b0 := 0x80 | opcode
	if rsv1 {
		b0 |= 0x40
	}
	n := len(payload)
	switch {
	case n <= 125:
		dst = append(dst, b0, 0x80|byte(n))
	case n <= 0xFFFF:
		dst = append(dst, b0, 0x80|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, b0, 0x80|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	dst = append(dst, key[:]...)
	start := len(dst)
	dst = append(dst, payload...)
	for i := range payload {
		dst[start+i] ^= key[i&3]
	}
	return dst
}
