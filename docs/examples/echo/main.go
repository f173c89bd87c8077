// Command echo is the smallest useful WebSocket server: it sends every
// message back to the client that sent it.
//
//	go run ./docs/examples/echo
//
// serves ws://127.0.0.1:8080/echo (-addr changes the address). To try it,
// run the same command with -client in another terminal: each line typed
// is sent as a text message, and the echo is printed.
//
//	go run ./docs/examples/echo -client
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/wsup/websocket"
)

// The zero Upgrader is ready to use: same-origin check, default limits.
var upgrader websocket.Upgrader

func echo(w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		log.Printf("upgrade: %v", err) // Upgrade has answered the request.
		return
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

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on, or to connect to with -client")
	client := flag.Bool("client", false, "connect to the server at -addr and echo the lines of standard input")
	flag.Parse()

	if *client {
		if err := runClient(context.Background(), "ws://"+*addr+"/echo", os.Stdin, os.Stdout); err != nil {
			log.Fatal(err)
		}
		return
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/echo", echo)
	srv := &http.Server{
		Addr:    *addr,
		Handler: mux,
		// Slow clients must not hold connections open without sending a
		// request (docs/security.md, "Timeouts").
		ReadHeaderTimeout: 10 * time.Second,
	}
	log.Printf("echo: serving ws://%s/echo", *addr)
	log.Fatal(srv.ListenAndServe())
}

// runClient connects to url, sends each line of in as a text message and
// writes each echo to out, until in ends; it then closes the connection
// with the closing handshake.
func runClient(ctx context.Context, url string, in io.Reader, out io.Writer) error {
	conn, _, err := websocket.DefaultDialer.DialContext(ctx, url, nil)
	if err != nil {
		return err
	}
	defer conn.Close()
	lines := bufio.NewScanner(in)
	for lines.Scan() {
		if err := conn.WriteMessage(websocket.TextMessage, lines.Bytes()); err != nil {
			return err
		}
		_, p, err := conn.ReadMessageContext(ctx)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(out, "echo: %s\n", p); err != nil {
			return err
		}
	}
	if err := lines.Err(); err != nil {
		return err
	}
	return conn.Close()
}
