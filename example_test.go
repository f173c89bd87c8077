package websocket_test

import (
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/wsup/websocket"
)

// An echo server: the handler upgrades the request and sends every message
// back. The client side uses a Dialer.
func ExampleUpgrader_Upgrade() {
	var upgrader websocket.Upgrader // the zero value is ready to use
	done := make(chan struct{})
	echo := func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return // Upgrade has answered with an HTTP error status.
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
	srv := httptest.NewServer(http.HandlerFunc(echo))
	defer srv.Close()

	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := conn.WriteMessage(websocket.TextMessage, []byte("hello")); err != nil {
		log.Fatal(err)
	}
	_, p, err := conn.ReadMessage()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("echo: %s\n", p)
	conn.Close() // The closing handshake ends the server's read loop.
	<-done
	// Output: echo: hello
}

// A JSON request/response exchange: ReadJSON decodes one message, WriteJSON
// sends one text message.
func ExampleConn_ReadJSON() {
	type request struct{ A, B int }
	type response struct{ Sum int }

	var upgrader websocket.Upgrader
	done := make(chan struct{})
	add := func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		for {
			var req request
			if err := conn.ReadJSON(&req); err != nil {
				return
			}
			if err := conn.WriteJSON(response{Sum: req.A + req.B}); err != nil {
				return
			}
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(add))
	defer srv.Close()

	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := conn.WriteJSON(request{A: 2, B: 3}); err != nil {
		log.Fatal(err)
	}
	var resp response
	if err := conn.ReadJSON(&resp); err != nil {
		log.Fatal(err)
	}
	fmt.Println("sum:", resp.Sum)
	conn.Close()
	<-done
	// Output: sum: 5
}

// The server learns why the client left: its read returns a *CloseError
// with the client's status code and reason.
func ExampleIsCloseError() {
	var upgrader websocket.Upgrader
	done := make(chan struct{})
	handler := func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				var ce *websocket.CloseError
				if websocket.IsCloseError(err, 4000) && errors.As(err, &ce) {
					fmt.Printf("the client closed with %d %q\n", ce.Code, ce.Text)
				}
				return
			}
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(handler))
	defer srv.Close()

	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		log.Fatal(err)
	}
	msg := websocket.FormatCloseMessage(4000, "done")
	if err := conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second)); err != nil {
		log.Fatal(err)
	}
	conn.Close() // Waits for the server's close frame, then closes.
	<-done
	// Output: the client closed with 4000 "done"
}
