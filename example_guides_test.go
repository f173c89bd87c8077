package websocket_test

// The examples of the guides in docs/: authentication.md, testing.md,
// troubleshooting.md and reverse-proxy.md. Each runs as a test.

import (
	"context"
	"errors"
	"expvar"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wsup/websocket"
)

// dialStatus dials url with header and returns the first message the
// server sends, or the HTTP status of a refused handshake.
func dialStatus(url string, header http.Header) string {
	conn, resp, err := websocket.DefaultDialer.Dial(url, header)
	if err != nil {
		if resp == nil {
			return "error: " + err.Error()
		}
		resp.Body.Close()
		return fmt.Sprintf("refused with %d", resp.StatusCode)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, msg, err := conn.ReadMessage()
	if err != nil {
		return "read error: " + err.Error()
	}
	return string(msg)
}

// A browser application authenticated by its session cookie: the handler
// checks the cookie before Upgrade, where it can still answer 401 with
// plain HTTP. A cookie is an ambient credential (the browser sends it
// whichever page opens the WebSocket), so the origin check, here the
// default one, is what stops other sites from using it.
func Example_authenticationCookie() {
	// A real application looks the session up in its session store.
	sessions := map[string]string{"7c1f9e": "alice"}
	var upgrader websocket.Upgrader // the default same-origin check

	mux := http.NewServeMux()
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		var user string
		if cookie, err := r.Cookie("session"); err == nil {
			user = sessions[cookie.Value]
		}
		if user == "" {
			http.Error(w, "not logged in", http.StatusUnauthorized)
			return
		}
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return // Upgrade has answered (403 for a foreign origin)
		}
		defer conn.Close()
		_ = conn.WriteMessage(websocket.TextMessage, []byte("hello "+user))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	own := "http://" + srv.Listener.Addr().String()
	fmt.Println("no cookie:   ", dialStatus(wsURL(srv)+"/ws", http.Header{"Origin": {own}}))
	fmt.Println("bad cookie:  ", dialStatus(wsURL(srv)+"/ws", http.Header{"Origin": {own}, "Cookie": {"session=0000"}}))
	fmt.Println("own page:    ", dialStatus(wsURL(srv)+"/ws", http.Header{"Origin": {own}, "Cookie": {"session=7c1f9e"}}))
	fmt.Println("other site:  ", dialStatus(wsURL(srv)+"/ws", http.Header{"Origin": {"https://evil.example"}, "Cookie": {"session=7c1f9e"}}))
	// Output:
	// no cookie:    refused with 401
	// bad cookie:   refused with 401
	// own page:     hello alice
	// other site:   refused with 403
}

// A token sent as the first message, for browser pages that hold a token
// rather than a cookie (browsers cannot set headers on a WebSocket
// handshake). The connection is upgraded first; until the token is
// checked, it is given nothing, and a bad or late token closes it with
// 1008 (policy violation).
func Example_authenticationFirstMessage() {
	tokens := map[string]string{"tk-bob-42": "bob"}
	var upgrader websocket.Upgrader
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		conn.SetReadLimit(512) // tokens are short; nothing larger before authentication
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, token, err := conn.ReadMessage()
		user, ok := tokens[string(token)]
		if err != nil || !ok {
			_ = conn.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.ClosePolicyViolation, "authentication failed"),
				time.Now().Add(time.Second))
			return
		}
		_ = conn.SetReadDeadline(time.Time{}) // authenticated: no deadline
		_ = conn.WriteMessage(websocket.TextMessage, []byte("hello "+user))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, token := range []string{"tk-bob-42", "forged"} {
		conn, _, err := websocket.DefaultDialer.Dial(wsURL(srv)+"/ws", nil)
		if err != nil {
			fmt.Println(err)
			return
		}
		_ = conn.WriteMessage(websocket.TextMessage, []byte(token))
		_, msg, err := conn.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				fmt.Printf("%s: closed with %d %q\n", token, ce.Code, ce.Text)
			}
		} else {
			fmt.Printf("%s: %s\n", token, msg)
		}
		conn.Close()
	}
	// Output:
	// tk-bob-42: hello bob
	// forged: closed with 1008 "authentication failed"
}

// Upgrader.Handler with authentication: serve receives only the *Conn, so
// the request is read before, in an ordinary handler, and what serve needs
// (here the user) reaches it through a closure.
func ExampleUpgrader_Handler_authenticated() {
	tokens := map[string]string{"tk-carol-7": "carol"} // API clients send Authorization
	var upgrader websocket.Upgrader
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		user, ok := tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		if !ok {
			w.Header().Set("WWW-Authenticate", "Bearer")
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		upgrader.Handler(func(conn *websocket.Conn) {
			_ = conn.WriteMessage(websocket.TextMessage, []byte("hello "+user))
		}).ServeHTTP(w, r)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	fmt.Println(dialStatus(wsURL(srv)+"/ws", http.Header{"Authorization": {"Bearer tk-carol-7"}}))
	fmt.Println(dialStatus(wsURL(srv)+"/ws", http.Header{"Authorization": {"Bearer wrong"}}))
	// Output:
	// hello carol
	// refused with 401
}

// Testing a WebSocket handler: httptest.NewServer serves it on 127.0.0.1,
// a Dialer connects to it, and the test checks what comes back: messages,
// the handshake's response, and close codes. In a real test, use t.Fatal
// (or testify's require) where this prints.
func Example_testingWithHTTPTest() {
	upgrader := websocket.Upgrader{Subprotocols: []string{"chat.v1"}}
	handler := func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		conn.SetReadLimit(64)
		for {
			typ, msg, err := conn.ReadMessage()
			if err != nil {
				return // a message over 64 bytes closes with 1009
			}
			if err := conn.WriteMessage(typ, msg); err != nil {
				return
			}
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(handler))
	defer srv.Close()

	// Bound the handshake with a context and every read with a deadline,
	// so that a broken handler fails the test instead of hanging it.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	dialer := websocket.Dialer{Subprotocols: []string{"chat.v1"}}
	conn, resp, err := dialer.DialContext(ctx, wsURL(srv), nil)
	if err != nil {
		fmt.Println("dial:", err)
		return
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	fmt.Println("status:", resp.StatusCode, "subprotocol:", conn.Subprotocol())

	_ = conn.WriteMessage(websocket.TextMessage, []byte("ping"))
	typ, msg, err := conn.ReadMessage()
	fmt.Println("echo:", typ == websocket.TextMessage, string(msg), err)

	_ = conn.WriteMessage(websocket.BinaryMessage, make([]byte, 65))
	_, _, err = conn.ReadMessage()
	fmt.Println("too big:", websocket.IsCloseError(err, websocket.CloseMessageTooBig))
	// Output:
	// status: 101 subprotocol: chat.v1
	// echo: true ping <nil>
	// too big: true
}

// The close codes a client sees most: 1009 when its message was over the
// server's read limit, 1001 when the server shuts down gracefully
// (Upgrader.Shutdown), and 1006 when the connection ended without a close
// frame (a process killed, a proxy timing out, a network failure).
func Example_closeCodes() {
	upgrader := &websocket.Upgrader{}
	mux := http.NewServeMux()
	mux.HandleFunc("/limit", func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		conn.SetReadLimit(16)
		_, _, _ = conn.ReadMessage()
	})
	var other websocket.Upgrader // not shut down below
	mux.HandleFunc("/vanish", func(w http.ResponseWriter, r *http.Request) {
		conn, err := other.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		conn.NetConn().Close() // no close frame: as if the process died
		conn.Close()
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	code := func(err error) int {
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		return 0
	}
	dial := func(path string) *websocket.Conn {
		conn, _, err := websocket.DefaultDialer.Dial(wsURL(srv)+path, nil)
		if err != nil {
			panic(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		return conn
	}

	big := dial("/limit")
	_ = big.WriteMessage(websocket.TextMessage, []byte(strings.Repeat("x", 17)))
	_, _, err := big.ReadMessage()
	fmt.Println("message too big:", code(err))
	big.Close()

	gone := dial("/vanish")
	_, _, err = gone.ReadMessage()
	fmt.Println("connection lost:", code(err))
	gone.Close()

	away := dial("/limit")
	shutdownDone := make(chan error, 1)
	go func() { shutdownDone <- upgrader.Shutdown(context.Background()) }()
	_, _, err = away.ReadMessage() // reading answers the close frame
	fmt.Println("server shutdown:", code(err), <-shutdownDone)
	away.Close()
	// Output:
	// message too big: 1009
	// connection lost: 1006
	// server shutdown: 1001 <nil>
}

// A reverse proxy in front of a WebSocket server, here Go's own
// httputil.ReverseProxy (nginx and Caddy are in docs/reverse-proxy.md).
// The default origin check compares the browser's Origin with the Host
// the backend receives, so a proxy that passes the public Host through
// works, and one that sends the backend's own address instead gets every
// browser handshake refused with 403.
func Example_reverseProxy() {
	var upgrader websocket.Upgrader
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		_ = conn.WriteMessage(websocket.TextMessage, []byte("hello through the proxy"))
	}))
	defer backend.Close()
	target, _ := url.Parse(backend.URL)

	proxy := func(keepHost bool) *httptest.Server {
		return httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target) // also sets the outgoing Host to the backend's
			r.SetXForwarded()
			if keepHost {
				r.Out.Host = r.In.Host // what nginx's proxy_set_header Host $host does
			}
		}})
	}
	for _, keepHost := range []bool{true, false} {
		front := proxy(keepHost)
		page := http.Header{"Origin": {"http://" + front.Listener.Addr().String()}}
		fmt.Printf("Host passed through %v: %s\n", keepHost, dialStatus(wsURL(front), page))
		front.Close()
	}
	// Output:
	// Host passed through true: hello through the proxy
	// Host passed through false: refused with 403
}

// Settings for a latency-bound service whose peers pipeline messages:
// every frame goes out on its own, without the (at most 100 µs) write
// coalescing, and a frame the peer does not take within 5 seconds fails
// the connection instead of the default 30 seconds without progress.
// docs/troubleshooting.md explains both.
func Example_latencyOverThroughput() {
	upgrader := websocket.Upgrader{
		DisableWriteCoalescing: true,
		WriteTimeout:           5 * time.Second,
		PingInterval:           30 * time.Second, // below the proxies' idle timeouts
	}
	http.Handle("/ws", upgrader.Handler(func(conn *websocket.Conn) {
		for {
			typ, msg, err := conn.ReadMessage()
			if err != nil || conn.WriteMessage(typ, msg) != nil {
				return
			}
		}
	}))
}

// Hooks counting connections, close codes and refused handshakes with
// expvar (served at /debug/vars by http.DefaultServeMux), and logging
// refusals with log/slog; docs/keepalive-and-shutdown.md shows it.
func Example_hooksMetrics() {
	var (
		open     = expvar.NewInt("websocket_open")
		closes   = expvar.NewMap("websocket_closes_by_code")
		rejected = expvar.NewMap("websocket_rejects_by_status")
	)
	var upgrader websocket.Upgrader
	upgrader.Hooks = websocket.Hooks{
		OnOpen: func(c *websocket.Conn) { open.Add(1) },
		OnClose: func(c *websocket.Conn, code int, lifetime time.Duration) {
			open.Add(-1)
			closes.Add(strconv.Itoa(code), 1)
		},
		OnReject: func(r *http.Request, status int, reason error) {
			rejected.Add(strconv.Itoa(status), 1)
			slog.Info("websocket handshake refused", "status", status, "reason", reason, "remote", r.RemoteAddr)
		},
	}
	http.Handle("/ws", upgrader.Handler(func(conn *websocket.Conn) { /* ... */ }))
}
