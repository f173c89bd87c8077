// Command echo is the smallest useful WebSocket server: it sends every
// message back to the client that sent it.
//
//	go run ./docs/examples/echo
//
// then connect a WebSocket client to ws://127.0.0.1:8080/echo.
package main

import (
	"log"
	"net/http"

	"github.com/wsup/websocket"
)

// The zero Upgrader is ready to use: same-origin check, default limits.
var upgrader websocket.Upgrader

func echo(w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		log.Printf("upgrade: %v", err) // Upgrade has answered the request.
		return
	}
	defer conn.Close()
	for {
		messageType, p, err := conn.ReadMessage()
		if err != nil {
			return // The client closed the connection, or it broke.
		}
		if err := conn.WriteMessage(messageType, p); err != nil {
			return
		}
	}
}

func main() {
	http.HandleFunc("/echo", echo)
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", nil))
}
