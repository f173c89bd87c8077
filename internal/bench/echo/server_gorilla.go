package echo

import (
	"net/http"

	"github.com/gorilla/websocket"
)

// gorillaHandler is the gorilla/websocket echo: ReadMessage / WriteMessage.
func gorillaHandler(opts Options) http.Handler {
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
	})
}
