//go:build unix

package websocket

import (
	"io"
	"net"
	"os"
	"syscall"
)

// This file holds all direct socket access on Unix: reads into a buffer
// taken only once data is there (readBuffer) and writes that never wait
// (the coalescer's flush). rawconn_other.go has the fallbacks.

// rawConnOf returns the syscall.RawConn of a plain TCP or Unix socket, or
// nil for any other connection. Only these exact types qualify: a wrapper
// that embeds one may do its own reading, which must not be bypassed.
func rawConnOf(nc net.Conn) syscall.RawConn {
	var rc syscall.RawConn
	var err error
	switch c := nc.(type) {
	case *net.TCPConn:
		rc, err = c.SyscallConn()
	case *net.UnixConn:
		rc, err = c.SyscallConn()
	default:
		return nil
	}
	if err != nil {
		return nil
	}
	return rc
}

// rawFill reads into an empty buffer through the RawConn: the read is
// tried at once, and when nothing is there the buffer goes back to the pool
// before the goroutine waits for the socket to become readable.
func (b *readBuffer) rawFill() {
	if err := b.raw.Read(b.rawFn); err != nil {
		// Deadline, closed connection: reported as net.Conn.Read does.
		b.err = b.readOpError(err)
	}
	// On success rawRead set b.w and, on a read error or EOF, b.err.
}

// rawRead is the RawConn callback: it reads from fd into a pooled buffer,
// and reports false (wait, holding no buffer) when no byte is available.
func (b *readBuffer) rawRead(fd uintptr) bool {
	want := b.size
	if b.hot {
		// The last read filled the buffer: more is queued, so read more
		// frames per system call.
		want = hotReadFactor * b.size
	}
	if b.pb != nil && len(b.buf) != want {
		b.release()
	}
	if b.pb == nil {
		b.acquire(want)
	}
	for {
		n, err := syscall.Read(int(fd), b.buf)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			b.release()
			return false
		case err != nil:
			b.err = b.readOpError(os.NewSyscallError("read", err))
		case n == 0:
			b.err = io.EOF
		default:
			b.w = n
			b.hot = n == len(b.buf)
		}
		return true
	}
}

// readOpError wraps err as net.Conn.Read reports errors.
func (b *readBuffer) readOpError(err error) error {
	if oe, ok := err.(*net.OpError); ok {
		err = oe.Err
	}
	la := b.nc.LocalAddr()
	return &net.OpError{Op: "read", Net: la.Network(), Source: la, Addr: b.nc.RemoteAddr(), Err: err}
}

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
