//go:build !nowsup

package echo

import (
	"io"
	"net/http"

	websocket "github.com/wsup/websocket"
)

// wsupHandler is the wsup echo, written as its documentation recommends:
// Upgrader.Handler (serve runs on its own goroutine and net/http's request
// goroutine is released), then NextReader / NextWriter joined by io.Copy
// (the message writer's ReadFrom), which relays each message without
// allocating it.
func wsupHandler(opts Options) (http.Handler, error) {
	up := websocket.Upgrader{EnableCompression: opts.Compress}
	return up.Handler(func(c *websocket.Conn) { wsupEcho(c, opts.MaxMessage) }), nil
}

// wsupUpgradeHandler is the same echo with Upgrade called inside a handler
// that keeps running until the connection ends (the gorilla pattern): it
// shows what net/http's goroutine and the request cost an idle connection.
func wsupUpgradeHandler(opts Options) (http.Handler, error) {
	up := websocket.Upgrader{EnableCompression: opts.Compress}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = c.Close() }()
		wsupEcho(c, opts.MaxMessage)
	}), nil
}

// wsupEcho relays every message of c back to it until an error.
func wsupEcho(c *websocket.Conn, limit int64) {
	c.SetReadLimit(limit)
	for {
		mt, msg, err := c.NextReader()
		if err != nil {
			return
		}
		out, err := c.NextWriter(mt)
		if err != nil {
			return
		}
		if _, err := io.Copy(out, msg); err != nil {
			return
		}
		if err := out.Close(); err != nil {
			return
		}
	}
}
