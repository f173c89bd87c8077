//go:build !nowsup

package echo

import (
	"io"
	"net/http"

	websocket "github.com/wsup/websocket"
)

// wsupHandler is the wsup echo, written against its gorilla-compatible
// streaming API: Upgrader.Upgrade, then NextReader / NextWriter joined by
// io.Copy (the message writer's ReadFrom), which relays each message
// without allocating it.
func wsupHandler(opts Options) (http.Handler, error) {
	up := websocket.Upgrader{EnableCompression: opts.Compress}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
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
