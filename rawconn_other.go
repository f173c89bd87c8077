//go:build !unix

package websocket

import (
	"errors"
	"net"
	"syscall"
)

// This file holds the fallbacks of rawconn_unix.go: without Unix system
// calls, rawConnOf returns nil, so reads go through net.Conn.Read and held
// frames are always sent by the coalescer's timer.

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

// write is not reached on this platform: rawConnOf returns nil, so held
// frames are always sent by the timer.
func (w *noWaitWriter) write(uintptr) bool {
	w.err = errNoRawConn
	return true
}
