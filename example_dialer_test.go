package websocket_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/wsup/websocket"
)

// ExampleDialer connects to an echo server, sends a message and reads the
// echo.
func ExampleDialer() {
	// An echo server, for the example.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var up websocket.Upgrader
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
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

	d := websocket.Dialer{
		HandshakeTimeout: 10 * time.Second,
		Subprotocols:     []string{"echo"},
	}
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/echo"
	c, resp, err := d.Dial(url, http.Header{"Origin": {srv.URL}})
	if err != nil {
		fmt.Println("dial:", err)
		return
	}
	defer c.Close()
	fmt.Println(resp.Status)
	fmt.Printf("subprotocol: %q\n", c.Subprotocol())

	if err := c.WriteMessage(websocket.TextMessage, []byte("hello")); err != nil {
		fmt.Println("write:", err)
		return
	}
	_, p, err := c.ReadMessage()
	if err != nil {
		fmt.Println("read:", err)
		return
	}
	fmt.Println(string(p))
	// Output:
	// 101 Switching Protocols
	// subprotocol: ""
	// hello
}
