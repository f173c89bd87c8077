package websocket

import (
	"net/http"
	"time"
)

// Hooks are observability callbacks of an Upgrader. Each may be nil. They
// run synchronously on the goroutine where the event happens, so they must
// be quick and must not block.
type Hooks struct {
	// OnOpen is called for each new connection, before Upgrade returns it.
	OnOpen func(c *Conn)
	// OnClose is called once a connection's network connection is closed,
	// with the close code (the peer's when it sent a close frame, else this
	// side's, else CloseAbnormalClosure) and how long the connection lived.
	OnClose func(c *Conn, code int, lifetime time.Duration)
	// OnReject is called when a handshake is refused before the hijack,
	// with the HTTP status answered and the cause.
	OnReject func(r *http.Request, status int, reason error)
}

// closeCode returns the code for the OnClose hook.
func (c *Conn) closeCode() int {
	if code := c.peerCloseCode.Load(); code != 0 {
		return int(code)
	}
	if code := c.sentCloseCode.Load(); code != 0 {
		return int(code)
	}
	return CloseAbnormalClosure
}
