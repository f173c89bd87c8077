package main

import (
	"log"
	"net/http"
	"sync"
	"time"

	"github.com/wsup/websocket"
)

const (
	// maxMessageSize is the longest chat message accepted, in bytes. A
	// longer one closes its sender's connection with status 1009.
	maxMessageSize = 4096
	// writeWait is how long a client may take to accept a message before
	// it is dropped, so that one stalled tab cannot stall the room.
	writeWait = 5 * time.Second
)

// hub is the chat room: it upgrades requests to WebSocket connections and
// broadcasts every text message it reads to every open connection.
type hub struct {
	upgrader websocket.Upgrader // the zero value: same-origin check

	mu    sync.Mutex // guards conns and serializes broadcasts
	conns map[*websocket.Conn]struct{}
}

func newHub() *hub {
	return &hub{conns: make(map[*websocket.Conn]struct{})}
}

// ServeHTTP upgrades the request and reads the client's messages until it
// leaves.
func (h *hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	conn, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		log.Printf("upgrade: %v", err) // Upgrade has answered the request.
		return
	}
	conn.SetReadLimit(maxMessageSize)

	h.mu.Lock()
	h.conns[conn] = struct{}{}
	h.mu.Unlock()
	defer h.leave(conn)

	for {
		messageType, msg, err := conn.ReadMessage()
		if err != nil {
			return // The tab closed, or the connection broke.
		}
		if messageType == websocket.TextMessage {
			h.broadcast(msg)
		}
	}
}

// broadcast sends msg to every connection, in the same order for all of
// them. Conn writes are safe from any goroutine, so no writer goroutine is
// needed per connection.
func (h *hub) broadcast(msg []byte) {
	var failed []*websocket.Conn
	h.mu.Lock()
	for conn := range h.conns {
		_ = conn.SetWriteDeadline(time.Now().Add(writeWait))
		if err := conn.WriteMessage(websocket.TextMessage, msg); err != nil {
			// A failed write leaves the connection unusable: drop it.
			delete(h.conns, conn)
			failed = append(failed, conn)
		}
	}
	h.mu.Unlock()
	for _, conn := range failed {
		conn.Close() // This also ends its reader in ServeHTTP.
	}
}

// leave removes conn from the room and closes it.
func (h *hub) leave(conn *websocket.Conn) {
	h.mu.Lock()
	delete(h.conns, conn)
	h.mu.Unlock()
	conn.Close()
}
