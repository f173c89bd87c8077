//go:build !unix

package websocket

import (
	"errors"
	"net"
	"syscall"
)

// errNoRawConn would be the read error if a RawConn were used where waiting
// without a buffer is not implemented; rawConnOf never returns one there.
var errNoRawConn = errors.New("websocket: raw reads are not supported on this platform")

// rawConnOf returns nil: waiting without a buffer needs Unix system calls.
func rawConnOf(net.Conn) syscall.RawConn { return nil }

// rawFill is not reached on this platform (rawConnOf returns nil).
func (b *readBuffer) rawFill() { b.err = errNoRawConn }

// rawRead is not reached on this platform (rawConnOf returns nil).
func (b *readBuffer) rawRead(uintptr) bool {
	b.err = errNoRawConn
	return true
}
