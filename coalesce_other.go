//go:build !unix

package websocket

import "syscall"

// rawWriteNoWait is not reached on this platform: rawConnOf returns nil, so
// held frames are always sent by the timer.
func rawWriteNoWait(syscall.RawConn, []byte) (int, error) { return 0, &rawWriteError{errNoRawConn} }
