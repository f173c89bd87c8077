//go:build !unix

package websocket

// write is not reached on this platform: rawConnOf returns nil, so held
// frames are always sent by the timer.
func (w *noWaitWriter) write(uintptr) bool {
	w.err = errNoRawConn
	return true
}
