package echo

import (
	"net/http"
	"sync"

	"github.com/gorilla/websocket"
)

// gorillaClient serialises the data writes to one gorilla connection, which
// allows a single concurrent writer.
type gorillaClient struct {
	mu sync.Mutex
	c  *websocket.Conn
}

// gorillaBroadcast prepares each received message once
// (websocket.NewPreparedMessage, which also compresses it once) and writes
// it to every client with WritePreparedMessage.
func gorillaBroadcast(opts Options) http.Handler {
	up := websocket.Upgrader{EnableCompression: opts.Compress}
	var clients hub[*gorillaClient]
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		c.SetReadLimit(opts.MaxMessage)
		me := &gorillaClient{c: c}
		clients.add(me)
		defer clients.remove(me)
		var all []*gorillaClient
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
				to.mu.Lock()
				_ = to.c.WritePreparedMessage(pm)
				to.mu.Unlock()
			}
		}
	})
}
