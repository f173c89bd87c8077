//go:build !nowsup

package echo

import (
	"net/http"

	websocket "github.com/wsup/websocket"
)

// wsupHandler is the wsup echo, written against its gorilla-compatible API:
// Upgrader.Upgrade, ReadMessage / WriteMessage.
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
			mt, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(mt, p); err != nil {
				return
			}
		}
	}), nil
}
