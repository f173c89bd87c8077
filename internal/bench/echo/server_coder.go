package echo

import (
	"net/http"

	"github.com/coder/websocket"
)

// coderHandler is the coder/websocket echo: Read / Write with the request
// context, as in the library's documentation.
func coderHandler(opts Options) http.Handler {
	accept := coderAcceptOptions(opts)
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

// coderAcceptOptions accepts with compression (without context takeover,
// coder's recommended mode) when opts asks for it.
func coderAcceptOptions(opts Options) *websocket.AcceptOptions {
	mode := websocket.CompressionDisabled
	if opts.Compress {
		mode = websocket.CompressionNoContextTakeover
	}
	return &websocket.AcceptOptions{CompressionMode: mode}
}
