package redis_test

import (
	"context"
	"log"
	"net/http"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/wsup/websocket"
	"github.com/wsup/websocket/hub"
	"github.com/wsup/websocket/hub/redis"
)

// A server whose hub shares its topics with every other server over the
// same Redis, keeping the last 100 publications of each topic for clients
// that reconnect (to this server or another).
func ExampleNew() {
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	b, err := redis.New(rdb, redis.Options{
		HistorySize: 100,
		OnError:     func(err error) { log.Print(err) }, // Redis outages
	})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	h, err := hub.New(hub.Options{
		Broker: b,
		// Clients keep the position of the last message they got.
		Frame: func(p hub.Publication) []byte {
			return append([]byte(p.Position.String()+" "), p.Data...)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close()

	var up websocket.Upgrader
	http.Handle("/ws", up.HandlerWithRequest(func(c *websocket.Conn, r *http.Request) {
		defer h.Leave(c)
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		since, err := hub.ParsePosition(r.URL.Query().Get("since"))
		if err == nil {
			err = h.Resume(ctx, c, "chat", since)
		}
		cancel()
		if err != nil {
			_ = h.Send(c, websocket.TextMessage, []byte("some messages were lost: reload"))
		}
		for {
			_, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, _ = h.Publish(ctx, "chat", websocket.TextMessage, p)
			cancel()
		}
	}))
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", nil))
}
