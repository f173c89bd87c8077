package websocket

import (
	"context"
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
// the request: use HandlerWithRequest when serve needs it). A
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

// HandlerWithRequest is Handler for serve functions that need the request:
// the user an authentication middleware put in its context, r.PathValue,
// the query, cookies, the client's address. serve gets c and a copy of the
// request whose context keeps the values of r.Context() but is never
// canceled (context.WithoutCancel), since the connection outlives the HTTP
// handler; its Body is http.NoBody (the connection's bytes belong to c).
// The returned handler is safe for concurrent use.
//
// It behaves alike over HTTP/1.1 and HTTP/2, as Handler does over
// HTTP/1.1: refused handshakes are answered by Upgrade and never reach
// serve; c is closed (with the closing handshake) when serve returns; a
// panic in serve is recovered and logged to the server's ErrorLog (the
// standard logger when that is nil) with its stack, except
// http.ErrAbortHandler, and c is then closed with CloseInternalServerErr.
// Over HTTP/1.1 serve runs on a goroutine of its own and the handler
// returns once the connection is upgraded; over HTTP/2 the WebSocket is the
// request's stream, which ends when the handler returns, so serve runs on
// the handler's goroutine.
//
// The request (its headers, URL and context values) stays referenced while
// serve runs, so an idle connection costs more than with Handler.
// Neither handler sets headers on the 101 response (Set-Cookie, a
// subprotocol chosen per request): for that, call Upgrade in a handler of
// your own with the responseHeader argument.
//
// It is a new method rather than a change to Handler, whose serve
// signature existing code relies on.
func (u *Upgrader) HandlerWithRequest(serve func(c *Conn, r *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := u.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		srv, _ := r.Context().Value(http.ServerContextKey).(*http.Server)
		req := r.WithContext(context.WithoutCancel(r.Context()))
		req.Body, req.GetBody = http.NoBody, nil
		run := func(c *Conn) { serve(c, req) }
		if _, ok := c.conn.(*streamConn); ok {
			runDetached(c, run, srv)
			return
		}
		go runDetached(c, run, srv)
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
