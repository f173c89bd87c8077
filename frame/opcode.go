package frame

// Opcode is the 4-bit frame opcode defined by RFC 6455 section 5.2.
// Values above 0xF never come out of Parse; methods treat them by the
// same rules as the 4-bit values (>= 0x8 is control).
type Opcode byte

// Opcodes defined by RFC 6455.
const (
	OpContinuation Opcode = 0x0 // continuation of a fragmented message
	OpText         Opcode = 0x1 // first frame of a text message
	OpBinary       Opcode = 0x2 // first frame of a binary message
	OpClose        Opcode = 0x8 // connection close control frame
	OpPing         Opcode = 0x9 // ping control frame
	OpPong         Opcode = 0xA // pong control frame
)

// IsControl reports whether o is a control opcode (0x8 and above,
// including the reserved control opcodes 0xB-0xF). It is safe for
// concurrent use.
func (o Opcode) IsControl() bool { return o >= 0x8 }

// IsData reports whether o is a data opcode (below 0x8, including the
// reserved data opcodes 0x3-0x7). It is safe for concurrent use.
func (o Opcode) IsData() bool { return o < 0x8 }

// IsReserved reports whether o is one of the opcodes RFC 6455 reserves
// for future use (0x3-0x7 and 0xB-0xF). Values above 0xF, which cannot be
// encoded in a frame, are also reported as reserved. It is safe for
// concurrent use.
func (o Opcode) IsReserved() bool {
	switch o {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
		return false
	}
	return true
}

// String returns the RFC name of o ("continuation", "text", "binary",
// "close", "ping", "pong"). Reserved opcodes return "reserved-0xN" using
// a static string, so String never allocates. It is safe for concurrent
// use.
func (o Opcode) String() string {
	switch o {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	if o <= 0xF {
		return reservedNames[o]
	}
	return "invalid"
}

var reservedNames = [16]string{
	3: "reserved-0x3", 4: "reserved-0x4", 5: "reserved-0x5", 6: "reserved-0x6", 7: "reserved-0x7",
	0xB: "reserved-0xB", 0xC: "reserved-0xC", 0xD: "reserved-0xD", 0xE: "reserved-0xE", 0xF: "reserved-0xF",
}
