package echo

import (
	"net/http"

	"github.com/coder/websocket"
)

// coderHandler is the coder/websocket echo: Read / Write with the request
// context, as in the library's documentation.
func coderHandler(opts Options) http.Handler {
	mode := websocket.CompressionDisabled
	if opts.Compress {
		mode = websocket.CompressionNoContextTakeover
	}
	accept := &websocket.AcceptOptions{CompressionMode: mode}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, accept)
		if err != nil {
			return
		}
		defer func() { _ = c.CloseNow() }()
		c.SetReadLimit(opts.MaxMessage)
		ctx := r.Context()
		for {
			typ, p, err := c.Read(ctx)
			if err != nil {
				return
			}
			if err := c.Write(ctx, typ, p); err != nil {
				return
			}
		}
	})
}
