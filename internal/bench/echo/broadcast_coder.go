package echo

import (
	"context"
	"net/http"

	"github.com/coder/websocket"
)

// coderBroadcast writes each received message to every client with one
// Write per connection: the library has no prepared-message API, and Write
// is safe for concurrent use.
func coderBroadcast(opts Options) http.Handler {
	accept := coderAcceptOptions(opts)
	var clients hub[*websocket.Conn]
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, accept)
		if err != nil {
			return
		}
		defer func() { _ = c.CloseNow() }()
		c.SetReadLimit(opts.MaxMessage)
		clients.add(c)
		defer clients.remove(c)
		// The sends must not end with the sender's request.
		ctx := context.WithoutCancel(r.Context())
		var all []*websocket.Conn
		for {
			typ, p, err := c.Read(r.Context())
			if err != nil {
				return
			}
			all = clients.snapshot(all)
			for _, to := range all {
				_ = to.Write(ctx, typ, p)
			}
		}
	})
}
