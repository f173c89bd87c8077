//go:build unix

package websocket

import (
	"os"
	"syscall"
)

// write is noWaitWriter's RawConn callback: it writes as much of w.b as
// the socket takes now and reports true, never asking to wait.
func (w *noWaitWriter) write(fd uintptr) bool {
	for w.n < len(w.b) {
		k, e := syscall.Write(int(fd), w.b[w.n:])
		if e == syscall.EINTR {
			continue
		}
		if e != nil {
			if e != syscall.EAGAIN {
				w.err = os.NewSyscallError("write", e)
			}
			break
		}
		if k <= 0 {
			break
		}
		w.n += k
	}
	return true // done, written or not: never wait here
}
