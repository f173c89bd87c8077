package websocket_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/wsup/websocket"
)

func wsURL(srv *httptest.Server) string { return "ws" + strings.TrimPrefix(srv.URL, "http") }

// Upgrader.Handler mounts a WebSocket endpoint on a ServeMux: the function
// runs once per connection, which is closed when it returns.
func ExampleUpgrader_Handler() {
	upgrader := &websocket.Upgrader{}
	mux := http.NewServeMux()
	mux.Handle("/ws", upgrader.Handler(func(c *websocket.Conn) {
		_ = c.WriteMessage(websocket.TextMessage, []byte("welcome"))
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	c, _, err := websocket.DefaultDialer.Dial(wsURL(srv)+"/ws", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	_, p, err := c.ReadMessage()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", p)
	// Output: welcome
}

// userKey is the context key under which requireUser stores the user.
type userKey struct{}

// requireUser is an authentication middleware: it refuses requests without
// a valid session cookie, and puts the user in the request's context.
func requireUser(sessions map[string]string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("session")
		user, ok := "", false
		if err == nil {
			user, ok = sessions[c.Value]
		}
		if !ok {
			http.Error(w, "unauthenticated", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey{}, user)))
	})
}

// Upgrader.HandlerWithRequest gives serve the request: here the user an
// authentication middleware found, and the room named in the path. The
// request's context keeps its values for the connection's lifetime.
func ExampleUpgrader_HandlerWithRequest() {
	upgrader := &websocket.Upgrader{}
	mux := http.NewServeMux()
	mux.Handle("/rooms/{room}", upgrader.HandlerWithRequest(func(c *websocket.Conn, r *http.Request) {
		user := r.Context().Value(userKey{}).(string)
		greeting := fmt.Sprintf("%s joined %s", user, r.PathValue("room"))
		_ = c.WriteMessage(websocket.TextMessage, []byte(greeting))
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}))
	srv := httptest.NewServer(requireUser(map[string]string{"s3cret": "ana"}, mux))
	defer srv.Close()

	// Without the session cookie, the middleware refuses the handshake.
	_, resp, err := websocket.DefaultDialer.Dial(wsURL(srv)+"/rooms/go", nil)
	fmt.Println(resp.StatusCode, err != nil)

	c, _, err := websocket.DefaultDialer.Dial(wsURL(srv)+"/rooms/go", http.Header{"Cookie": {"session=s3cret"}})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	_, p, err := c.ReadMessage()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", p)
	// Output:
	// 401 true
	// ana joined go
}

// With EnableCompression on both sides, permessage-deflate is negotiated
// and messages of at least 512 bytes travel compressed.
func ExampleUpgrader_compression() {
	upgrader := &websocket.Upgrader{
		EnableCompression: true,
		// Optional: compress harder, and keep no compressor between
		// messages (saves about 1 MiB per connection).
		Compression: &websocket.CompressionOptions{Level: 6, ServerNoContextTakeover: true},
	}
	srv := httptest.NewServer(upgrader.Handler(func(c *websocket.Conn) {
		for {
			mt, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(mt, p); err != nil {
				return
			}
		}
	}))
	defer srv.Close()

	d := websocket.Dialer{EnableCompression: true}
	c, resp, err := d.Dial(wsURL(srv), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	fmt.Println(resp.Header.Get("Sec-WebSocket-Extensions"))
	msg := strings.Repeat(`{"event":"tick","ok":true}`, 100)
	if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		log.Fatal(err)
	}
	_, p, err := c.ReadMessage()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(p) == len(msg))
	// Output:
	// permessage-deflate; server_no_context_takeover
	// true
}

// Graceful shutdown: stop the HTTP server, then close every WebSocket with
// 1001 (going away) and wait for the peers' close frames.
func ExampleUpgrader_Shutdown() {
	upgrader := &websocket.Upgrader{}
	srv := httptest.NewServer(upgrader.Handler(func(c *websocket.Conn) {
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return // ErrShuttingDown once Shutdown closes it
			}
		}
	}))
	c, _, err := websocket.DefaultDialer.Dial(wsURL(srv), nil)
	if err != nil {
		log.Fatal(err)
	}
	readErr := make(chan error, 1)
	go func() {
		_, _, err := c.ReadMessage() // answers the server's close frame
		readErr <- err
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := upgrader.Shutdown(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println(websocket.IsCloseError(<-readErr, websocket.CloseGoingAway))
	srv.Close()
	// Output: true
}

// Keepalive: the server pings quiet clients every PingInterval and closes
// those that do not answer within PongTimeout; Ping(ctx) checks a peer on
// demand.
func ExampleConn_Ping() {
	upgrader := &websocket.Upgrader{PingInterval: 30 * time.Second, PongTimeout: 10 * time.Second}
	pinged := make(chan error, 1)
	srv := httptest.NewServer(upgrader.Handler(func(c *websocket.Conn) {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			pinged <- c.Ping(ctx) // needs the read loop below to see the pong
		}()
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	c, _, err := websocket.DefaultDialer.Dial(wsURL(srv), nil)
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		for { // the client's reads answer pings
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}()
	fmt.Println(<-pinged)
	c.Close()
	// Output: <nil>
}

// A PreparedMessage is framed (and compressed) once and sent to many
// connections.
func ExamplePreparedMessage() {
	upgrader := &websocket.Upgrader{}
	conns := make(chan *websocket.Conn, 3)
	srv := httptest.NewServer(upgrader.Handler(func(c *websocket.Conn) {
		conns <- c
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	var clients []*websocket.Conn
	for i := 0; i < 3; i++ {
		c, _, err := websocket.DefaultDialer.Dial(wsURL(srv), nil)
		if err != nil {
			log.Fatal(err)
		}
		defer c.Close()
		clients = append(clients, c)
	}
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, []byte("news for everyone"))
	if err != nil {
		log.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := (<-conns).WritePreparedMessage(pm); err != nil {
			log.Fatal(err)
		}
	}
	for _, c := range clients {
		_, p, err := c.ReadMessage()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s\n", p)
	}
	// Output:
	// news for everyone
	// news for everyone
	// news for everyone
}
