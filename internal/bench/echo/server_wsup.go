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
	return up.Handler(func(c *websocket.Conn) {
		c.SetReadLimit(opts.MaxMessage)
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
	}), nil
}
