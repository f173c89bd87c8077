package hubbench

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/centrifugal/centrifuge"
	goredis "github.com/redis/go-redis/v9"

	"github.com/wsup/websocket"
	"github.com/wsup/websocket/hub"
	redisbroker "github.com/wsup/websocket/hub/redis"
)

// Topic is the topic (channel) every subscriber subscribes to.
const Topic = "bench"

// System is one broadcast implementation under test.
type System struct {
	Name   string
	Proto  string // the subscribers' protocol: "wsup" or "centrifuge"
	Redis  bool   // needs a Redis
	Starts func(redisAddr string) (*Cluster, error)
}

// Cluster is a running system: the WebSocket URLs of its servers, a
// function that publishes on the first one, and Stop.
type Cluster struct {
	URLs    []string
	Publish func(ctx context.Context, data []byte) error
	stops   []func()
}

// Stop stops the servers, last started first.
func (c *Cluster) Stop() {
	for i := len(c.stops) - 1; i >= 0; i-- {
		c.stops[i]()
	}
}

// Systems are the systems the benchmark compares.
var Systems = []System{
	{Name: "wsup-hub/memory", Proto: "wsup", Starts: func(string) (*Cluster, error) { return startWsup("", 1, 0) }},
	{Name: "centrifuge/memory", Proto: "centrifuge", Starts: func(string) (*Cluster, error) { return startCentrifuge("", 1) }},
	{Name: "wsup-hub/redis-2-servers", Proto: "wsup", Redis: true, Starts: func(a string) (*Cluster, error) { return startWsup(a, 2, 0) }},
	{Name: "centrifuge/redis-2-servers", Proto: "centrifuge", Redis: true, Starts: func(a string) (*Cluster, error) { return startCentrifuge(a, 2) }},
}

// serve serves h on a loopback port and returns its base address.
func serve(c *Cluster, h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	c.stops = append(c.stops, func() { _ = srv.Close() })
	return ln.Addr().String(), nil
}

// startWsup starts n servers of package hub: with the in-process broker
// when redisAddr is empty (n must be 1), else each with its own hub/redis
// broker keeping history entries of each topic.
func startWsup(redisAddr string, n, history int) (c *Cluster, err error) {
	c = &Cluster{}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	var hubs []*hub.Hub
	for range n {
		var broker hub.Broker = hub.NewMemoryBroker(history)
		if redisAddr != "" {
			rdb := goredis.NewClient(&goredis.Options{Addr: redisAddr})
			c.stops = append(c.stops, func() { _ = rdb.Close() })
			b, err := redisbroker.New(rdb, redisbroker.Options{HistorySize: history, Prefix: "hubbench:"})
			if err != nil {
				return nil, err
			}
			broker = b
		}
		c.stops = append(c.stops, func() { _ = broker.Close() })
		h, err := hub.New(hub.Options{Broker: broker})
		if err != nil {
			return nil, err
		}
		c.stops = append(c.stops, func() { _ = h.Close() })
		hubs = append(hubs, h)
		var up websocket.Upgrader
		addr, err := serve(c, up.Handler(func(conn *websocket.Conn) {
			defer h.Leave(conn)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := h.Subscribe(ctx, conn, Topic)
			cancel()
			if err != nil {
				return
			}
			_ = h.Send(conn, websocket.TextMessage, []byte("ready"))
			for {
				if _, _, err := conn.ReadMessage(); err != nil {
					return
				}
			}
		}))
		if err != nil {
			return nil, err
		}
		c.URLs = append(c.URLs, "ws://"+addr+"/")
	}
	c.Publish = func(ctx context.Context, data []byte) error {
		_, err := hubs[0].Publish(ctx, Topic, websocket.TextMessage, data)
		return err
	}
	return c, nil
}

// startCentrifuge starts n centrifuge nodes: with its memory broker when
// redisAddr is empty (n must be 1), else with its Redis broker.
func startCentrifuge(redisAddr string, n int) (c *Cluster, err error) {
	c = &Cluster{}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	var nodes []*centrifuge.Node
	for range n {
		node, err := centrifuge.New(centrifuge.Config{})
		if err != nil {
			return nil, err
		}
		node.OnConnecting(func(context.Context, centrifuge.ConnectEvent) (centrifuge.ConnectReply, error) {
			return centrifuge.ConnectReply{Credentials: &centrifuge.Credentials{UserID: "bench"}}, nil
		})
		node.OnConnect(func(client *centrifuge.Client) {
			client.OnSubscribe(func(_ centrifuge.SubscribeEvent, cb centrifuge.SubscribeCallback) {
				cb(centrifuge.SubscribeReply{}, nil)
			})
		})
		if redisAddr != "" {
			shard, err := centrifuge.NewRedisShard(node, centrifuge.RedisShardConfig{Address: redisAddr})
			if err != nil {
				return nil, err
			}
			c.stops = append(c.stops, shard.Close)
			b, err := centrifuge.NewRedisBroker(node, centrifuge.RedisBrokerConfig{Prefix: "hubbench-centrifuge", Shards: []*centrifuge.RedisShard{shard}})
			if err != nil {
				return nil, err
			}
			node.SetBroker(b)
		}
		if err := node.Run(); err != nil {
			return nil, err
		}
		c.stops = append(c.stops, func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = node.Shutdown(ctx)
		})
		nodes = append(nodes, node)
		mux := http.NewServeMux()
		mux.Handle("/connection/websocket", centrifuge.NewWebsocketHandler(node, centrifuge.WebsocketConfig{
			CheckOrigin: func(*http.Request) bool { return true },
		}))
		addr, err := serve(c, mux)
		if err != nil {
			return nil, err
		}
		c.URLs = append(c.URLs, "ws://"+addr+"/connection/websocket")
	}
	c.Publish = func(_ context.Context, data []byte) error {
		_, err := nodes[0].Publish(Topic, data)
		return err
	}
	return c, nil
}

var errTimeout = errors.New("hubbench: timed out")
