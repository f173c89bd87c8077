package hub_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/wsup/websocket"
	"github.com/wsup/websocket/hub"
)

// A server whose clients subscribe to "news"; what is published reaches
// every one of them.
func Example() {
	h, err := hub.New(hub.Options{})
	if err != nil {
		panic(err)
	}
	defer h.Close()
	subscribed := make(chan struct{})
	var up websocket.Upgrader
	srv := httptest.NewServer(up.Handler(func(c *websocket.Conn) {
		defer h.Leave(c)
		if err := h.Subscribe(context.Background(), c, "news"); err != nil {
			return
		}
		subscribed <- struct{}{}
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}))
	defer srv.Close()

	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	<-subscribed
	if _, err := h.Publish(context.Background(), "news", websocket.TextMessage, []byte("hello")); err != nil {
		panic(err)
	}
	_, p, err := c.ReadMessage()
	fmt.Println(string(p), err)
	// Output: hello <nil>
}

// A client that reconnects says where it was; Resume replays what it
// missed before the live publications.
func ExampleHub_Resume() {
	h, err := hub.New(hub.Options{
		Broker: hub.NewMemoryBroker(100), // keep the last 100 of each topic
		// Tell clients where each message stands.
		Frame: func(p hub.Publication) []byte {
			return fmt.Appendf(nil, "%d %s", p.Position.Offset, p.Data)
		},
	})
	if err != nil {
		panic(err)
	}
	defer h.Close()
	ctx := context.Background()
	var seen hub.Position
	for _, m := range []string{"a", "b", "c"} {
		pos, err := h.Publish(ctx, "room", websocket.TextMessage, []byte(m))
		if err != nil {
			panic(err)
		}
		if m == "a" {
			seen = pos // the client saw "a", then lost its connection
		}
	}
	token := seen.String() // what the client keeps and sends back

	var up websocket.Upgrader
	srv := httptest.NewServer(up.Handler(func(c *websocket.Conn) {
		defer h.Leave(c)
		since, err := hub.ParsePosition(token)
		if err != nil {
			return
		}
		if err := h.Resume(ctx, c, "room", since); err != nil {
			_ = h.Send(c, websocket.TextMessage, []byte("some messages were lost"))
		}
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	for range 2 {
		_, p, _ := c.ReadMessage()
		fmt.Println(string(p))
	}
	// Output:
	// 2 b
	// 3 c
}
