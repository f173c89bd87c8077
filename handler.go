package websocket

import (
	"log"
	"net/http"
	"runtime"
	"time"
)

// Handler returns an http.Handler that upgrades each request and runs serve
// with the connection, closing it (with the closing handshake) when serve
// returns. Refused handshakes are answered by Upgrade and never reach serve.
// The returned handler is safe for concurrent use.
//
// Over HTTP/1.1, serve runs on a goroutine of its own and the handler
// returns as soon as the connection is upgraded, so net/http's goroutine,
// the request and its response buffers are freed: an idle connection then
// costs about 40% less than when the handler keeps running
// (docs/performance.md has the figures). Two consequences follow: middleware
// wrapped around the handler sees it return right after the 101 response,
// and the request's context is canceled at that point (serve is not given
// the request; read what it needs before, in middleware or a closure). A
// panic in serve is treated as net/http treats a handler's panic: it is
// recovered and logged, with its stack, to the server's ErrorLog (the
// standard logger when that is nil), except for http.ErrAbortHandler; the
// connection is then closed with CloseInternalServerErr.
//
// Over HTTP/2 (RFC 8441) the WebSocket is the request's stream, which ends
// when the handler returns, so serve runs on the handler's goroutine and
// a panic reaches net/http as any handler's would.
func (u *Upgrader) Handler(serve func(*Conn)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := u.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		if _, ok := c.conn.(*streamConn); ok {
			defer c.Close()
			serve(c)
			return
		}
		srv, _ := r.Context().Value(http.ServerContextKey).(*http.Server)
		go runDetached(c, serve, srv)
	})
}

// runDetached runs serve with c on the current goroutine, closes c when
// serve returns, and recovers a panic as net/http's server does.
func runDetached(c *Conn, serve func(*Conn), srv *http.Server) {
	defer func() {
		if v := recover(); v != nil {
			// Close does nothing after this.
			c.closeOnce.Do(func() {})
			_, _ = c.closeConn(closeReq{code: CloseInternalServerErr, deadline: time.Now().Add(closeTimeout.get())})
			if v != http.ErrAbortHandler {
				logPanic(srv, c, v)
			}
			return
		}
		_ = c.Close()
	}()
	serve(c)
}

// logPanic reports a recovered panic the way net/http reports one from a
// handler: to the server's ErrorLog, else the standard logger.
func logPanic(srv *http.Server, c *Conn, v any) {
	buf := make([]byte, 64<<10)
	buf = buf[:runtime.Stack(buf, false)]
	const format = "websocket: panic serving %v: %v\n%s"
	if srv != nil && srv.ErrorLog != nil {
		srv.ErrorLog.Printf(format, c.RemoteAddr(), v, buf)
		return
	}
	log.Printf(format, c.RemoteAddr(), v, buf)
}
