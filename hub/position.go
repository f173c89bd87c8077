package hub

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Position is where a publication stands in its topic's stream: Offset
// counts the topic's publications from 1, and Epoch names the stream's
// life. An epoch changes when the broker lost the topic's history (a
// restarted in-process broker, a Redis flushed or restarted without
// persistence): offsets of two epochs cannot be compared.
//
// The zero Position means "nothing seen yet": resuming from it replays all
// the history the broker keeps.
type Position struct {
	Epoch  string
	Offset uint64
}

// maxEpochLen bounds the epoch of a parsed position token.
const maxEpochLen = 64

// ErrBadPosition is wrapped by the error ParsePosition returns for a
// malformed token.
var ErrBadPosition = errors.New("hub: bad position token")

// String returns the position as a token "EPOCH:OFFSET" that ParsePosition
// reads back, for a client to keep and send when it reconnects. The zero
// Position gives ":0".
func (p Position) String() string {
	return p.Epoch + ":" + strconv.FormatUint(p.Offset, 10)
}

// IsZero reports whether p is the zero Position.
func (p Position) IsZero() bool { return p == Position{} }

// ParsePosition reads a token written by Position.String. The epoch is up
// to 64 bytes of ASCII letters, digits, '-' and '_'; the offset a decimal
// uint64 without sign or leading zeros. The empty string is the zero
// Position. Anything else returns an error wrapping ErrBadPosition. It is
// safe for concurrent use.
func ParsePosition(s string) (Position, error) {
	if s == "" {
		return Position{}, nil
	}
	epoch, off, ok := strings.Cut(s, ":")
	if !ok {
		return Position{}, fmt.Errorf("%w: %q has no ':'", ErrBadPosition, s)
	}
	if len(epoch) > maxEpochLen {
		return Position{}, fmt.Errorf("%w: epoch longer than %d bytes", ErrBadPosition, maxEpochLen)
	}
	for i := 0; i < len(epoch); i++ {
		if !epochByte(epoch[i]) {
			return Position{}, fmt.Errorf("%w: byte %#x in the epoch", ErrBadPosition, epoch[i])
		}
	}
	if off == "" || (len(off) > 1 && off[0] == '0') || off[0] == '+' || off[0] == '-' {
		return Position{}, fmt.Errorf("%w: offset %q", ErrBadPosition, off)
	}
	n, err := strconv.ParseUint(off, 10, 64)
	if err != nil {
		return Position{}, fmt.Errorf("%w: offset %q", ErrBadPosition, off)
	}
	return Position{Epoch: epoch, Offset: n}, nil
}

// epochByte reports whether b may appear in an epoch.
func epochByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_'
}

// ValidEpoch reports whether e is a valid epoch: 1 to 64 bytes of ASCII
// letters, digits, '-' and '_'. Brokers use it to check what they read
// back from their store. It is safe for concurrent use.
func ValidEpoch(e string) bool {
	if e == "" || len(e) > maxEpochLen {
		return false
	}
	for i := 0; i < len(e); i++ {
		if !epochByte(e[i]) {
			return false
		}
	}
	return true
}
