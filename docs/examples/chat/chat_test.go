package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsup/websocket"
)

// dial connects a client to the chat served by srv. Its reads fail after
// 10 seconds, so a missing message fails the test instead of hanging it.
func dial(t *testing.T, srv *httptest.Server) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.DefaultDialer.DialContext(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	return conn
}

func send(t *testing.T, conn *websocket.Conn, text string) {
	t.Helper()
	require.NoError(t, conn.WriteMessage(websocket.TextMessage, []byte(text)))
}

// receive returns the next message, which must be text.
func receive(t *testing.T, conn *websocket.Conn) string {
	t.Helper()
	typ, p, err := conn.ReadMessage()
	require.NoError(t, err)
	require.Equal(t, websocket.TextMessage, typ)
	return string(p)
}

// join connects a new client and waits until the hub counts it: a client
// receives its own messages, so its first one coming back proves it.
// Clients already in the room receive that message too; join reads it.
func join(t *testing.T, srv *httptest.Server, name string, room ...*websocket.Conn) *websocket.Conn {
	t.Helper()
	conn := dial(t, srv)
	send(t, conn, name+" joined")
	for _, c := range append(room, conn) {
		assert.Equal(t, name+" joined", receive(t, c))
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
		wantBody   string
	}{
		{"page", "/", nil, http.StatusOK, "<title>wsup chat</title>"},
		{"unknown path", "/nope", nil, http.StatusNotFound, ""},
		{"plain GET on the endpoint", "/ws", nil, http.StatusUpgradeRequired, ""},
		{"cross-origin upgrade", "/ws", map[string]string{
			"Connection":            "Upgrade",
			"Upgrade":               "websocket",
			"Sec-WebSocket-Version": "13",
			"Sec-WebSocket-Key":     "dGhlIHNhbXBsZSBub25jZQ==",
			"Origin":                "https://evil.example",
		}, http.StatusForbidden, ""},
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
			assert.Contains(t, string(body), tc.wantBody)
		})
	}
}

// TestBroadcast has two clients talk through the hub: each message reaches
// both, the sender included, in the order sent; after one leaves, the
// other still chats.
func TestBroadcast(t *testing.T) {
	srv := httptest.NewServer(newMux(newHub()))
	defer srv.Close()

	alice := join(t, srv, "alice")
	bob := join(t, srv, "bob", alice)
	clients := []*websocket.Conn{alice, bob}

	steps := []struct {
		from int
		text string
	}{
		{0, "hello bob"},
		{1, "héllo alice 🌍"},
		{1, strings.Repeat("long message ", 300)},
		{0, ""},
	}
	for _, s := range steps {
		send(t, clients[s.from], s.text)
		for i, c := range clients {
			assert.Equal(t, s.text, receive(t, c), "client %d", i)
		}
	}

	// Bob leaves: Close completes the closing handshake with the server.
	require.NoError(t, bob.Close())
	send(t, alice, "still here")
	assert.Equal(t, "still here", receive(t, alice))
}

// TestReadLimit checks that a message over maxMessageSize closes the
// sender's connection with status 1009 (message too big).
func TestReadLimit(t *testing.T) {
	srv := httptest.NewServer(newMux(newHub()))
	defer srv.Close()

	conn := join(t, srv, "mallory")
	send(t, conn, strings.Repeat("x", maxMessageSize+1))
	_, _, err := conn.ReadMessage()
	assert.True(t, websocket.IsCloseError(err, websocket.CloseMessageTooBig), "read error %v, want close 1009", err)
}
