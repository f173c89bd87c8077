// Package utf8x validates UTF-8 incrementally and fails fast, as needed
// for WebSocket text messages (RFC 6455 section 8.1): a message that
// arrives in fragments must be rejected as soon as the bytes received so
// far can no longer be the prefix of valid UTF-8.
package utf8x

import "encoding/binary"

// Accept ranges for the first continuation byte after a lead byte. Index
// 0 marks an invalid lead byte.
const (
	rInvalid = iota
	r80BF    // any continuation byte
	rA0BF    // after E0: excludes overlong 3-byte forms
	r809F    // after ED: excludes UTF-16 surrogates
	r90BF    // after F0: excludes overlong 4-byte forms
	r808F    // after F4: excludes code points above U+10FFFF
)

// Lower and upper bounds of each accept range, sized 16 so that indexing
// with a nibble needs no bounds check. rInvalid has an empty range.
var (
	rangeLo = [16]byte{rInvalid: 0xFF, r80BF: 0x80, rA0BF: 0xA0, r809F: 0x80, r90BF: 0x90, r808F: 0x80}
	rangeHi = [16]byte{rInvalid: 0x00, r80BF: 0xBF, rA0BF: 0xBF, r809F: 0x9F, r90BF: 0xBF, r808F: 0x8F}
)

// leads classifies each byte as a lead byte: the low nibble is the number
// of continuation bytes that follow, the high nibble the accept range of
// the first of them. Zero means the byte is ASCII (handled before the
// table is consulted) or can never start a sequence (continuation bytes,
// C0, C1, F5-FF).
var leads = func() (t [256]uint8) {
	for c := 0xC2; c <= 0xDF; c++ {
		t[c] = r80BF<<4 | 1
	}
	for c := 0xE1; c <= 0xEF; c++ {
		t[c] = r80BF<<4 | 2
	}
	t[0xE0] = rA0BF<<4 | 2
	t[0xED] = r809F<<4 | 2
	for c := 0xF1; c <= 0xF3; c++ {
		t[c] = r80BF<<4 | 3
	}
	t[0xF0] = r90BF<<4 | 3
	t[0xF4] = r808F<<4 | 3
	return t
}()

const asciiMask = 0x8080808080808080

// isCont reports whether c is a continuation byte (0x80-0xBF).
func isCont(c byte) bool { return c&0xC0 == 0x80 }

// Validator validates UTF-8 incrementally across fragments. The zero
// value is ready to use; it holds only a few bytes of state and never
// allocates. A Validator is not safe for concurrent use.
type Validator struct {
	need   uint8 // continuation bytes still expected
	lo, hi uint8 // accept range of the next continuation byte
	bad    bool  // input so far cannot be a prefix of valid UTF-8
}

// Write validates the next bytes of the input. It returns false as soon as
// the bytes written so far cannot be the prefix of any valid UTF-8 text
// (for example 0xF4 0x90 is rejected at the 0x90, the surrogate 0xED 0xA0
// at the 0xA0, and 0xC0, 0xC1, 0xF5-0xFF immediately). Once Write has
// returned false it keeps returning false until Reset. A true result
// means the input is valid so far but may end mid-sequence; see Complete.
func (v *Validator) Write(p []byte) bool {
	if v.bad {
		return false
	}
	i := 0
	n := len(p)
	// Finish a sequence left open by the previous Write.
	for v.need > 0 {
		if i == n {
			return true
		}
		if c := p[i]; c < v.lo || c > v.hi {
			v.bad = true
			return false
		}
		v.lo, v.hi = 0x80, 0xBF
		v.need--
		i++
	}
	for i < n {
		if n-i >= 8 {
			if binary.LittleEndian.Uint64(p[i:])&asciiMask == 0 {
				i += 8
				if n-i >= 32 {
					i += asciiPrefix(p[i:])
				}
				continue
			}
		}
		c := p[i]
		if c < 0x80 {
			i++
			continue
		}
		x := leads[c]
		lo, hi := rangeLo[x>>4], rangeHi[x>>4]
		switch x & 0x0F {
		case 1:
			if i+1 < n {
				if c1 := p[i+1]; c1 < lo || c1 > hi {
					v.bad = true
					return false
				}
				i += 2
				continue
			}
		case 2:
			if i+2 < n {
				if c1 := p[i+1]; c1 < lo || c1 > hi || !isCont(p[i+2]) {
					v.bad = true
					return false
				}
				i += 3
				continue
			}
		case 3:
			if i+3 < n {
				if c1 := p[i+1]; c1 < lo || c1 > hi || !isCont(p[i+2]) || !isCont(p[i+3]) {
					v.bad = true
					return false
				}
				i += 4
				continue
			}
		default:
			v.bad = true
			return false
		}
		// The sequence continues in a later Write: check what is here
		// and remember what is still expected.
		need := x & 0x0F
		for i++; i < n; i++ {
			if c := p[i]; c < lo || c > hi {
				v.bad = true
				return false
			}
			lo, hi = 0x80, 0xBF
			need--
		}
		v.need, v.lo, v.hi = need, lo, hi
	}
	return true
}

// Complete reports whether everything written so far is valid UTF-8 that
// does not end in the middle of a multi-byte sequence.
func (v *Validator) Complete() bool {
	return !v.bad && v.need == 0
}

// Reset returns v to its zero state, ready for a new message.
func (v *Validator) Reset() {
	*v = Validator{}
}

// Valid reports whether p is entirely valid UTF-8. It gives the same
// answer as unicode/utf8.Valid, never allocates and is safe for
// concurrent use.
func Valid(p []byte) bool {
	var v Validator
	return v.Write(p) && v.Complete()
}

// asciiPrefix returns the length of a prefix of p that is all ASCII. It
// checks 32, then 8 bytes at a time and may stop up to 7 bytes before the
// first non-ASCII byte; the caller handles the rest byte by byte.
func asciiPrefix(p []byte) int {
	q := p
	for len(q) >= 32 {
		w := binary.LittleEndian.Uint64(q[0:8]) | binary.LittleEndian.Uint64(q[8:16]) |
			binary.LittleEndian.Uint64(q[16:24]) | binary.LittleEndian.Uint64(q[24:32])
		if w&asciiMask != 0 {
			break
		}
		q = q[32:]
	}
	for len(q) >= 8 && binary.LittleEndian.Uint64(q[0:8])&asciiMask == 0 {
		q = q[8:]
	}
	return len(p) - len(q)
}
