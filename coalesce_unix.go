//go:build unix

package websocket

import (
	"os"
	"syscall"
)

// rawWriteNoWait writes as much of b as the socket takes now, never
// waiting for it to become writable. It returns the bytes written and the
// system call's error (EAGAIN is not one). An error from rc itself (a
// deadline that passed, a closed connection) is returned as errRawWrite
// wrapping it, with nothing written: the caller then leaves the write to a
// path that applies deadlines.
func rawWriteNoWait(rc syscall.RawConn, b []byte) (int, error) {
	n := 0
	var werr error
	err := rc.Write(func(fd uintptr) bool {
		for n < len(b) {
			k, e := syscall.Write(int(fd), b[n:])
			if e == syscall.EINTR {
				continue
			}
			if e != nil {
				if e != syscall.EAGAIN {
					werr = os.NewSyscallError("write", e)
				}
				break
			}
			if k <= 0 {
				break
			}
			n += k
		}
		return true // done, written or not: never wait here
	})
	if werr != nil {
		return n, werr
	}
	if err != nil {
		return n, &rawWriteError{err}
	}
	return n, nil
}
