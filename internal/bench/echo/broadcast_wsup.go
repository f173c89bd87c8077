//go:build !nowsup

package echo

import (
	"net/http"

	websocket "github.com/wsup/websocket"
)

// wsupBroadcast prepares each received message once
// (websocket.NewPreparedMessage, framed and compressed once per set of
// deflate parameters) and writes it to every client with
// WritePreparedMessage, which is safe for concurrent use.
func wsupBroadcast(opts Options) (http.Handler, error) {
	up := websocket.Upgrader{EnableCompression: opts.Compress}
	var clients hub[*websocket.Conn]
	return up.Handler(func(c *websocket.Conn) {
		c.SetReadLimit(opts.MaxMessage)
		clients.add(c)
		defer clients.remove(c)
		var all []*websocket.Conn
		for {
			mt, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			pm, err := websocket.NewPreparedMessage(mt, p)
			if err != nil {
				return
			}
			all = clients.snapshot(all)
			for _, to := range all {
				_ = to.WritePreparedMessage(pm)
			}
		}
	}), nil
}
