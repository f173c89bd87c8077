package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsup/websocket"
	"github.com/wsup/websocket/hub"
)

// wsURL is the chat endpoint of the server at base (an http:// URL).
func wsURL(base string) string {
	return "ws" + strings.TrimPrefix(base, "http") + "/ws"
}

// dialWith connects a client to the chat at base with d. Its reads fail
// after 10 seconds, so a missing message fails the test instead of
// hanging it.
func dialWith(t *testing.T, d *websocket.Dialer, base string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := d.DialContext(ctx, wsURL(base), nil)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	return conn
}

func dial(t *testing.T, srv *httptest.Server) *websocket.Conn {
	t.Helper()
	return dialWith(t, websocket.DefaultDialer, srv.URL)
}

func send(t *testing.T, conn *websocket.Conn, name, text string) {
	t.Helper()
	p, err := json.Marshal(incoming{Name: name, Text: text})
	require.NoError(t, err)
	require.NoError(t, conn.WriteMessage(websocket.TextMessage, p))
}

// receive returns the next message, which must be a JSON text message.
func receive(t *testing.T, conn *websocket.Conn) outgoing {
	t.Helper()
	typ, p, err := conn.ReadMessage()
	require.NoError(t, err)
	require.Equal(t, websocket.TextMessage, typ)
	var msg outgoing
	require.NoError(t, json.Unmarshal(p, &msg), "message %q", p)
	return msg
}

// join connects a new client and waits until the hub counts it: a client
// receives its own messages, so its first one coming back proves it.
// Clients already in the room receive that message too; join reads it.
func join(t *testing.T, srv *httptest.Server, name string, room ...*websocket.Conn) *websocket.Conn {
	t.Helper()
	conn := dial(t, srv)
	send(t, conn, name, "joined")
	for _, c := range append(room, conn) {
		msg := receive(t, c)
		assert.Equal(t, name, msg.Name)
		assert.Equal(t, "joined", msg.Text)
	}
	return conn
}

func TestRoutes(t *testing.T) {
	srv := httptest.NewServer(newMux(newHub()))
	defer srv.Close()

	cases := []struct {
		name       string
		path       string
		header     map[string]string
		wantStatus int
		wantType   string
		wantBody   string
	}{
		{"page", "/", nil, http.StatusOK, "text/html; charset=utf-8", "<title>wsup chat</title>"},
		{"icon", "/favicon.svg", nil, http.StatusOK, "image/svg+xml", "<svg"},
		{"icon at the default path", "/favicon.ico", nil, http.StatusOK, "image/svg+xml", "<svg"},
		{"unknown path", "/nope", nil, http.StatusNotFound, "", ""},
		{"plain GET on the endpoint", "/ws", nil, http.StatusUpgradeRequired, "", ""},
		{"cross-origin upgrade", "/ws", map[string]string{
			"Connection":            "Upgrade",
			"Upgrade":               "websocket",
			"Sec-WebSocket-Version": "13",
			"Sec-WebSocket-Key":     "dGhlIHNhbXBsZSBub25jZQ==",
			"Origin":                "https://evil.example",
		}, http.StatusForbidden, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, srv.URL+tc.path, nil)
			require.NoError(t, err)
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := srv.Client().Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, tc.wantStatus, resp.StatusCode)
			if tc.wantType != "" {
				assert.Equal(t, tc.wantType, resp.Header.Get("Content-Type"))
			}
			assert.Contains(t, string(body), tc.wantBody)
		})
	}
}

// TestBroadcast has two clients talk through the hub: each message reaches
// both, the sender included, in the order sent, with the sender's name
// and the hub's time; after one leaves, the other still chats.
func TestBroadcast(t *testing.T) {
	h := newHub()
	stamp := time.Date(2026, 1, 2, 15, 4, 5, 0, time.FixedZone("CET", 3600))
	h.now = func() time.Time { return stamp }
	srv := httptest.NewServer(newMux(h))
	defer srv.Close()

	alice := join(t, srv, "alice")
	bob := join(t, srv, "bob", alice)
	clients := []*websocket.Conn{alice, bob}

	steps := []struct {
		from     int
		name     string
		text     string
		wantName string
	}{
		{0, "alice", "hello bob", "alice"},
		{1, "bob", "héllo alice 🌍", "bob"},
		{1, "bob", strings.Repeat("long message ", 300), "bob"},
		{0, "  ", "no name", "anonymous"},
		{0, strings.Repeat("é", 40), "long name", strings.Repeat("é", maxNameLength)},
	}
	for _, s := range steps {
		send(t, clients[s.from], s.name, s.text)
		for i, c := range clients {
			msg := receive(t, c)
			assert.Equal(t, s.text, msg.Text, "client %d", i)
			assert.Equal(t, s.wantName, msg.Name, "client %d", i)
			assert.True(t, stamp.Equal(msg.Time), "client %d: time %v", i, msg.Time)
		}
	}

	// Not JSON, or no text: ignored. The next message shows nothing came
	// in between.
	require.NoError(t, alice.WriteMessage(websocket.TextMessage, []byte("not json")))
	send(t, alice, "alice", "   ")
	send(t, alice, "alice", "after the ignored ones")
	for _, c := range clients {
		assert.Equal(t, "after the ignored ones", receive(t, c).Text)
	}

	// Bob leaves: Close completes the closing handshake with the server.
	require.NoError(t, bob.Close())
	send(t, alice, "alice", "still here")
	assert.Equal(t, "still here", receive(t, alice).Text)
}

// TestReadLimit checks that a message over maxMessageSize closes the
// sender's connection with status 1009 (message too big).
func TestReadLimit(t *testing.T) {
	srv := httptest.NewServer(newMux(newHub()))
	defer srv.Close()

	conn := join(t, srv, "mallory")
	require.NoError(t, conn.WriteMessage(websocket.TextMessage, []byte(strings.Repeat("x", maxMessageSize+1))))
	_, _, err := conn.ReadMessage()
	assert.True(t, websocket.IsCloseError(err, websocket.CloseMessageTooBig), "read error %v, want close 1009", err)
}

// stalledRawClient completes a WebSocket handshake over raw TCP and never
// reads again.
func stalledRawClient(t *testing.T, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
	_, err = fmt.Fprintf(c, "GET /ws HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"+
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", addr)
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReaderSize(c, 512), nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
}

// TestStalledClientsDoNotDelayRoom fills the room with ten tabs that never
// read (nine raw TCP clients and one Conn), then has a normal client send
// a flood of messages: it must receive every one of them in order and
// promptly, while the stalled tabs are dropped with close 1008 once their
// queues are full.
func TestStalledClientsDoNotDelayRoom(t *testing.T) {
	// Long enough for the stalled Conn below to be dropped, and start
	// reading, before its writer gives up on the write it is blocked in
	// (which would fail the connection: 1006 instead of 1008).
	h, err := newHubWith(hub.NewMemoryBroker(historySize), 30*time.Second)
	require.NoError(t, err)
	srv := httptest.NewServer(newMux(h))
	defer srv.Close()
	addr := srv.Listener.Addr().String()

	bob := join(t, srv, "bob")
	for range 9 {
		stalledRawClient(t, addr)
	}
	stalled := dial(t, srv)
	require.Eventually(t, func() bool { return h.count() == 11 }, 10*time.Second, 5*time.Millisecond)

	// Bob chats until every stalled tab has been dropped: that takes what
	// a stalled tab's socket buffers hold (a few MiB on Linux's loopback),
	// then its queue. He reads each message before he sends the next, as a
	// person would, so his own queue never holds more than one. Each must
	// come back within 5 s; with a broadcast that blocked on stalled tabs,
	// one would take writeWait per stalled tab.
	const maxFlood = 4000 // 16 MB per tab: far more than its buffers hold
	text := strings.Repeat("z", maxMessageSize-100)
	start := time.Now()
	var slowest time.Duration
	n := 0
	for ; n < maxFlood && h.count() > 1; n++ {
		sent := time.Now()
		require.NoError(t, bob.SetReadDeadline(sent.Add(5*time.Second)))
		send(t, bob, "bob", fmt.Sprint(n, text))
		require.Equal(t, fmt.Sprint(n, text), receive(t, bob).Text)
		slowest = max(slowest, time.Since(sent))
	}
	t.Logf("%d messages through a room with stalled tabs in %v, slowest %v", n, time.Since(start), slowest)
	// Every stalled tab overflowed its queue and left the room.
	require.Equal(t, 1, h.count(), "stalled tabs still in the room after %d messages", n)

	// The stalled Conn, reading at last, finds some messages and then the
	// close frame with 1008.
	require.NoError(t, stalled.SetReadDeadline(time.Now().Add(10*time.Second)))
	err = nil
	read := 0
	for ; err == nil && read <= n; read++ {
		_, _, err = stalled.ReadMessage()
	}
	t.Logf("stalled tab: %d messages, then %v", read-1, err)
	assert.True(t, websocket.IsCloseError(err, websocket.ClosePolicyViolation), "read error %v, want close 1008", err)

	// The room still works.
	require.NoError(t, bob.SetReadDeadline(time.Now().Add(5*time.Second)))
	send(t, bob, "bob", "anyone left?")
	assert.Equal(t, "anyone left?", receive(t, bob).Text)
}

// TestShutdown runs the server as main does and stops it as a signal would
// (by canceling run's context): every client gets close 1001 (going
// away), run returns nil, and the listener no longer accepts connections.
func TestShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base := "http://" + ln.Addr().String()
	h := newHub()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(ctx, ln, h) }()

	clients := make([]*websocket.Conn, 3)
	for i := range clients {
		clients[i] = dialWith(t, websocket.DefaultDialer, base)
	}
	require.Eventually(t, func() bool { return h.count() == len(clients) }, 10*time.Second, 5*time.Millisecond)

	cancel() // as SIGTERM does through signal.NotifyContext in main
	for i, c := range clients {
		_, _, err := c.ReadMessage() // the client's read answers the close frame
		assert.True(t, websocket.IsCloseError(err, websocket.CloseGoingAway), "client %d: read error %v, want close 1001", i, err)
	}
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after its context was canceled")
	}
	_, err = net.DialTimeout("tcp", ln.Addr().String(), time.Second)
	assert.Error(t, err, "the listener still accepts connections")
}
