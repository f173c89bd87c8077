package main

import (
	"encoding/json"
	"log"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/wsup/websocket"
)

const (
	// maxMessageSize is the longest chat message accepted, in bytes. A
	// longer one closes its sender's connection with status 1009.
	maxMessageSize = 4096
	// maxNameLength is the longest sender name kept, in characters.
	maxNameLength = 32
	// sendQueue is how many messages may wait for a client that reads
	// slowly. A client whose queue is full is dropped (close 1008), so that
	// one stalled tab cannot stall the room or hold its messages in memory.
	sendQueue = 64
	// writeWait bounds each write to a client: a client that takes no
	// message for that long is disconnected by its writer.
	writeWait = 5 * time.Second
)

// incoming is what a page sends: its user's name and the text typed.
type incoming struct {
	Name string `json:"name"`
	Text string `json:"text"`
}

// outgoing is what the hub broadcasts: the message with the time the hub
// received it.
type outgoing struct {
	Name string    `json:"name"`
	Text string    `json:"text"`
	Time time.Time `json:"time"`
}

// client is one connected tab. Its writer goroutine is the only one that
// writes data messages to conn, taking them from send in order.
type client struct {
	conn      *websocket.Conn
	writeWait time.Duration
	send      chan []byte // bounded queue of encoded outgoing messages

	stopOnce  sync.Once
	quit      chan struct{} // closed by stop
	closeCode int           // set by stop before quit is closed; 0: plain Close
	closeText string
}

// stop tells the writer to end, sending a close frame with code first
// when code is not 0. Only the first call counts.
func (c *client) stop(code int, text string) {
	c.stopOnce.Do(func() {
		c.closeCode, c.closeText = code, text
		close(c.quit)
	})
}

// writeLoop sends the queued messages until stop is called or a write
// fails, then closes the connection.
func (c *client) writeLoop() {
	defer c.conn.Close()
	for {
		// A stopped client gets no more messages, even if some are queued.
		select {
		case <-c.quit:
			c.sayGoodbye()
			return
		default:
		}
		select {
		case <-c.quit:
			c.sayGoodbye()
			return
		case msg := <-c.send:
			_ = c.conn.SetWriteDeadline(time.Now().Add(c.writeWait))
			if err := c.conn.WriteMessage(websocket.TextMessage, msg); err != nil {
				return // The connection is unusable; the deferred Close ends it.
			}
		}
	}
}

func (c *client) sayGoodbye() {
	if c.closeCode != 0 {
		_ = c.conn.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(c.closeCode, c.closeText), time.Now().Add(c.writeWait))
	}
}

// hub is the chat room: it upgrades requests to WebSocket connections and
// broadcasts every message it reads to every open connection.
type hub struct {
	upgrader  websocket.Upgrader // same-origin check; Shutdown closes with 1001
	now       func() time.Time   // the clock stamping messages
	writeWait time.Duration      // bound of each write to a client

	mu      sync.Mutex // guards clients and orders broadcasts
	clients map[*client]struct{}
}

func newHub() *hub {
	return &hub{now: time.Now, writeWait: writeWait, clients: make(map[*client]struct{})}
}

// count returns how many clients are in the room.
func (h *hub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}

// ServeHTTP upgrades the request, starts the client's writer and reads the
// client's messages until it leaves.
func (h *hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	conn, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		log.Printf("upgrade: %v", err) // Upgrade has answered the request.
		return
	}
	conn.SetReadLimit(maxMessageSize)

	c := &client{conn: conn, writeWait: h.writeWait, send: make(chan []byte, sendQueue), quit: make(chan struct{})}
	h.mu.Lock()
	h.clients[c] = struct{}{}
	h.mu.Unlock()
	go c.writeLoop()
	defer h.leave(c)

	for {
		messageType, p, err := conn.ReadMessage()
		if err != nil {
			return // The tab closed, the connection broke, or the server stops.
		}
		var in incoming
		if messageType != websocket.TextMessage || json.Unmarshal(p, &in) != nil {
			log.Printf("chat: %v sent a message that is not JSON; ignored", conn.RemoteAddr())
			continue
		}
		if strings.TrimSpace(in.Text) == "" {
			continue
		}
		msg, err := json.Marshal(outgoing{Name: cleanName(in.Name), Text: in.Text, Time: h.now().UTC()})
		if err != nil {
			continue
		}
		h.broadcast(msg)
	}
}

// cleanName trims name to maxNameLength characters; an empty name becomes
// "anonymous".
func cleanName(name string) string {
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) > maxNameLength {
		name = string([]rune(name)[:maxNameLength])
	}
	if name == "" {
		return "anonymous"
	}
	return name
}

// broadcast queues msg for every client, in the same order for all of
// them. It never blocks: a client whose queue is full is dropped with
// close 1008 (policy violation), and the others are not delayed.
func (h *hub) broadcast(msg []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		select {
		case c.send <- msg:
		default:
			delete(h.clients, c)
			c.stop(websocket.ClosePolicyViolation, "too slow: messages were dropped")
		}
	}
}

// leave removes c from the room and closes its connection.
func (h *hub) leave(c *client) {
	h.mu.Lock()
	delete(h.clients, c)
	h.mu.Unlock()
	c.stop(0, "")
	c.conn.Close()
}
