package main

import (
	"context"
	"encoding/json"
	"errors"
	"log"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wsup/websocket"
	"github.com/wsup/websocket/hub"
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
	// historySize is how many messages the room keeps for tabs that
	// reload or reconnect.
	historySize = 100
	// room is the hub topic of the chat room.
	room = "room"
	// opTimeout bounds a publication or a subscription.
	opTimeout = 5 * time.Second
)

// incoming is what a page sends: its user's name and the text typed.
type incoming struct {
	Name string `json:"name"`
	Text string `json:"text"`
}

// outgoing is what the room broadcasts: the message with the time the
// server received it, and its position in the room's history (ID), which
// a page sends back when it reconnects.
type outgoing struct {
	ID   string    `json:"id,omitempty"`
	Name string    `json:"name"`
	Text string    `json:"text"`
	Time time.Time `json:"time"`
}

// chatHub is the chat room: it upgrades requests to WebSocket connections,
// subscribes them to the room's topic and publishes every message it
// reads. A hub.Hub does the rest: a bounded queue and a writer per
// client, and, through its broker, the other servers of the room and
// the history.
type chatHub struct {
	upgrader websocket.Upgrader // same-origin check; Shutdown closes with 1001
	now      func() time.Time   // the clock stamping messages
	h        *hub.Hub
}

// newHub returns a room on one server, keeping its history in memory.
func newHub() *chatHub {
	h, err := newHubWith(hub.NewMemoryBroker(historySize), writeWait)
	if err != nil {
		panic(err) // a MemoryBroker starts without error
	}
	return h
}

// newHubWith returns a room whose messages go through broker; each write
// to a client is bounded by wait.
func newHubWith(broker hub.Broker, wait time.Duration) (*chatHub, error) {
	h, err := hub.New(hub.Options{
		Broker:        broker,
		QueueMessages: sendQueue,
		WriteTimeout:  wait,
		Frame:         frameID,
		Hooks: hub.Hooks{
			OnGap:   func(err *hub.GapError) { log.Printf("chat: %v", err) },
			OnError: func(err error) { log.Printf("chat: %v", err) },
		},
	})
	if err != nil {
		return nil, err
	}
	return &chatHub{now: time.Now, h: h}, nil
}

// frameID adds the publication's position to the JSON object published:
// {"id":"EPOCH:OFFSET", ...}.
func frameID(p hub.Publication) []byte {
	id, _ := json.Marshal(p.Position.String())
	out := make([]byte, 0, len(p.Data)+len(id)+8)
	out = append(out, `{"id":`...)
	out = append(out, id...)
	if len(p.Data) > 2 {
		out = append(out, ',')
	}
	return append(out, p.Data[1:]...)
}

// count returns how many clients are in the room on this server.
func (c *chatHub) count() int { return c.h.Stats().Connections }

// ServeHTTP upgrades the request, subscribes the client and reads its
// messages until it leaves. A page that reconnects passes ?since=ID, the
// ID of the last message it has ("" when it has none): it then receives
// the messages it missed first, or a notice when some are lost.
func (c *chatHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	conn, err := c.upgrader.Upgrade(w, r, nil)
	if err != nil {
		log.Printf("upgrade: %v", err) // Upgrade has answered the request.
		return
	}
	defer conn.Close()
	defer c.h.Leave(conn)
	conn.SetReadLimit(maxMessageSize)
	if err := c.join(r, conn); err != nil {
		log.Printf("chat: %v", err)
		return
	}

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
		msg, err := json.Marshal(outgoing{Name: cleanName(in.Name), Text: in.Text, Time: c.now().UTC()})
		if err != nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		_, err = c.h.Publish(ctx, room, websocket.TextMessage, msg)
		cancel()
		if err != nil {
			log.Printf("chat: publish: %v", err)
			c.notice(conn, "your message could not be sent: the server lost its backplane")
		}
	}
}

// join subscribes conn to the room, replaying the history after ?since=
// when the page passed it.
func (c *chatHub) join(r *http.Request, conn *websocket.Conn) error {
	ctx, cancel := context.WithTimeout(r.Context(), opTimeout)
	defer cancel()
	since, resume := r.URL.Query()["since"]
	if !resume {
		return c.h.Subscribe(ctx, conn, room)
	}
	pos, err := hub.ParsePosition(since[0])
	if err != nil {
		pos = hub.Position{} // a page from another deployment: full history
	}
	err = c.h.Resume(ctx, conn, room, pos)
	if errors.Is(err, hub.ErrGap) {
		c.notice(conn, "some messages were lost while you were away")
		return nil
	}
	return err
}

// notice sends the server's own message to conn alone.
func (c *chatHub) notice(conn *websocket.Conn, text string) {
	msg, err := json.Marshal(outgoing{Name: "server", Text: text, Time: c.now().UTC()})
	if err == nil {
		_ = c.h.Send(conn, websocket.TextMessage, msg)
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
