// Command chat is a small chat room: every message typed in a browser tab
// is broadcast to every open tab.
//
//	go run ./docs/examples/chat
//
// then open http://127.0.0.1:8080 in two tabs. The page reconnects by
// itself when the server restarts.
package main

import (
	_ "embed"
	"flag"
	"log"
	"net"
	"net/http"
	"time"
)

//go:embed index.html
var indexHTML []byte

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("chat: open http://%s in your browser", ln.Addr())
	srv := &http.Server{Handler: newMux(newHub()), ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.Serve(ln))
}

// newMux returns the chat's routes: the page at / and the WebSocket
// endpoint at /ws.
func newMux(h *hub) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(indexHTML)
	})
	mux.Handle("GET /ws", h)
	return mux
}
