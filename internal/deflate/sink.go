package deflate

import (
	"errors"
	"io"
)

// syncTail is the end of every sync flush: the LEN/NLEN of an empty stored
// block. RFC 7692 section 7.2.1 removes it from the wire; the receiver adds it
// back.
var syncTail = [4]byte{0x00, 0x00, 0xff, 0xff}

// errMissingTail means compress/flate did not end a flush with the empty
// stored block it always writes; it indicates a bug, not bad input.
var errMissingTail = errors.New("deflate: compressed message does not end with 00 00 ff ff")

// sink receives the compressed bytes of a flate.Writer. In append mode (w ==
// nil) it appends to dst; in stream mode it forwards everything to w except
// the last four bytes seen so far, which it holds back so the final sync
// tail can be dropped.
type sink struct {
	dst   []byte
	w     io.Writer
	hold  [4]byte
	nhold int
	err   error
}

// reset drops the destination and any held bytes.
func (s *sink) reset() {
	*s = sink{}
}

// Write implements io.Writer for the flate.Writer.
func (s *sink) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.w == nil {
		s.dst = append(s.dst, p...)
		return len(p), nil
	}
	if s.nhold+len(p) <= len(s.hold) {
		s.nhold += copy(s.hold[s.nhold:], p)
		return len(p), nil
	}
	if len(p) >= len(s.hold) {
		// Everything held goes out, then all of p but its last 4 bytes.
		if err := s.emit(s.hold[:s.nhold]); err != nil {
			return 0, err
		}
		cut := len(p) - len(s.hold)
		if err := s.emit(p[:cut]); err != nil {
			return 0, err
		}
		s.nhold = copy(s.hold[:], p[cut:])
		return len(p), nil
	}
	// Part of the held bytes goes out; the rest of hold plus p stays.
	k := s.nhold + len(p) - len(s.hold)
	if err := s.emit(s.hold[:k]); err != nil {
		return 0, err
	}
	copy(s.hold[:], s.hold[k:s.nhold])
	s.nhold -= k
	s.nhold += copy(s.hold[s.nhold:], p)
	return len(p), nil
}

func (s *sink) emit(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	if _, err := s.w.Write(p); err != nil {
		s.err = err
		return err
	}
	return nil
}

// heldTail reports whether the held-back bytes are exactly the sync tail.
func (s *sink) heldTail() bool {
	return s.nhold == len(s.hold) && s.hold == syncTail
}
