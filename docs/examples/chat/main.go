// Command chat is a small chat room: every message typed in a browser tab
// is broadcast to every open tab, with its sender's name and the time.
//
//	go -C docs/examples/chat run .
//
// then open http://127.0.0.1:8080 in two tabs. The page reconnects by
// itself when the server restarts, and gets the messages it missed (the
// room keeps the last 100; in memory, so a restart loses them).
//
// With -redis ADDR, the room spans every server started with the same
// Redis: tabs on either see each other's messages, and the history lives
// in Redis (docs/scaling.md):
//
//	go -C docs/examples/chat run . -addr 127.0.0.1:8080 -redis 127.0.0.1:6379
//	go -C docs/examples/chat run . -addr 127.0.0.1:8081 -redis 127.0.0.1:6379
//
// Ctrl-C (SIGINT) or SIGTERM stops the server gracefully: every tab is
// sent close 1001 (going away) first.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	goredis "github.com/redis/go-redis/v9"

	redisbroker "github.com/wsup/websocket/hub/redis"
)

//go:embed index.html
var indexHTML []byte

//go:embed favicon.svg
var faviconSVG []byte

// shutdownTimeout bounds the graceful shutdown: the HTTP server's and the
// WebSocket closing handshakes together.
const shutdownTimeout = 10 * time.Second

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	redisAddr := flag.String("redis", "", "address of a Redis shared with the room's other servers (host:port); none: a room on this server alone")
	flag.Parse()

	h := newHub()
	if *redisAddr != "" {
		rdb := goredis.NewClient(&goredis.Options{Addr: *redisAddr})
		defer rdb.Close()
		b, err := redisbroker.New(rdb, redisbroker.Options{
			HistorySize: historySize,
			OnError:     func(err error) { log.Printf("chat: redis: %v", err) },
			OnResubscribed: func() {
				log.Print("chat: redis: connection back")
			},
		})
		if err != nil {
			log.Fatal(err)
		}
		defer b.Close()
		if h, err = newHubWith(b, writeWait); err != nil {
			log.Fatal(err)
		}
		log.Printf("chat: sharing the room through Redis at %s", *redisAddr)
	}
	defer h.h.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("chat: open http://%s in your browser", ln.Addr())
	if err := run(ctx, ln, h); err != nil {
		log.Print(err)
		return
	}
	log.Print("chat: stopped")
}

// run serves the chat on ln until ctx is done, then shuts down gracefully:
// http.Server.Shutdown stops accepting connections and, through the hook
// registered with RegisterOnShutdown, Upgrader.Shutdown sends every
// WebSocket close 1001 and waits for the peers' answers
// (docs/keepalive-and-shutdown.md explains why it runs from the hook).
func run(ctx context.Context, ln net.Listener, h *chatHub) error {
	srv := &http.Server{Handler: newMux(h), ReadHeaderTimeout: 10 * time.Second}
	wsDone := make(chan error, 1)
	srv.RegisterOnShutdown(func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		wsDone <- h.upgrader.Shutdown(ctx)
	})

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err := <-serveErr:
		return err // Serve failed before any shutdown.
	case <-ctx.Done():
	}
	log.Print("chat: shutting down")

	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	// srv.Shutdown does not wait for hijacked (HTTP/1.1) WebSockets.
	if wsErr := <-wsDone; err == nil {
		err = wsErr
	}
	if serr := <-serveErr; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// newMux returns the chat's routes: the page at /, its icon, and the
// WebSocket endpoint at /ws.
func newMux(h *chatHub) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(indexHTML)
	})
	icon := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/svg+xml")
		w.Header().Set("Cache-Control", "max-age=86400")
		_, _ = w.Write(faviconSVG)
	}
	mux.HandleFunc("GET /favicon.svg", icon)
	mux.HandleFunc("GET /favicon.ico", icon) // browsers that ignore the <link>
	mux.Handle("GET /ws", h)
	return mux
}
