package websocket

import (
	"crypto/tls"
	"net"
	"syscall"
	"unsafe"
)

// kernelPending returns how many received bytes the kernel holds unread
// for nc (a TCP or Unix socket, or TLS over one), and whether it could
// tell. Keepalive uses it to notice a peer's frames that the application
// has not read yet.
func kernelPending(nc net.Conn) (int, bool) {
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	return socketQueue(nc, syscall.TIOCINQ)
}

// kernelUnacked returns how many bytes written to nc, a plain TCP or Unix
// socket, the peer has not acknowledged yet (sent or not), and whether it
// could tell. The write stall bound uses it to tell a slow peer from a dead
// one.
func kernelUnacked(nc net.Conn) (int, bool) {
	return socketQueue(nc, syscall.TIOCOUTQ)
}

// socketQueue asks the kernel for the length of one of nc's queues
// (TIOCINQ: received and unread; TIOCOUTQ: written and unacknowledged).
func socketQueue(nc net.Conn, req uintptr) (int, bool) {
	rc := rawConnOf(nc)
	if rc == nil {
		return 0, false
	}
	var n int32
	var errno syscall.Errno
	err := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, req, uintptr(unsafe.Pointer(&n)))
	})
	if err != nil || errno != 0 {
		return 0, false
	}
	return int(n), true
}
