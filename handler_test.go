package websocket

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsup/websocket/frame"
)

// dialURL turns an httptest server's URL into a ws:// URL.
func dialURL(srv *httptest.Server) string { return "ws" + strings.TrimPrefix(srv.URL, "http") }

// TestHandlerReturnsAfterUpgrade: over HTTP/1.1 the http.Handler returns
// once the connection is upgraded (middleware sees it), while serve keeps
// the connection and echoes on it; the request's context is done by then.
func TestHandlerReturnsAfterUpgrade(t *testing.T) {
	var up Upgrader
	returned := make(chan struct{})
	served := make(chan struct{})
	reqCtxDone := make(chan bool, 1)
	var reqDone <-chan struct{}
	h := up.Handler(func(c *Conn) {
		defer close(served)
		select {
		case <-returned:
		case <-time.After(5 * time.Second):
		}
		select {
		case <-reqDone:
			reqCtxDone <- true
		case <-time.After(5 * time.Second):
			reqCtxDone <- false
		}
		for {
			mt, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(mt, p); err != nil {
				return
			}
		}
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqDone = r.Context().Done()
		h.ServeHTTP(w, r)
		close(returned)
	}))
	defer srv.Close()

	c, _, err := DefaultDialer.Dial(dialURL(srv), nil)
	require.NoError(t, err)
	select {
	case <-returned:
	case <-time.After(5 * time.Second):
		t.Fatal("the http.Handler did not return after the upgrade")
	}
	require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	for i := range 3 {
		msg := bytes.Repeat([]byte{byte('a' + i)}, 100*(i+1))
		require.NoError(t, c.WriteMessage(BinaryMessage, msg))
		mt, got, err := c.ReadMessage()
		require.NoError(t, err)
		assert.Equal(t, BinaryMessage, mt)
		assert.Equal(t, msg, got)
	}
	assert.True(t, <-reqCtxDone, "the request's context is canceled once the handler returned")
	require.NoError(t, c.Close())
	select {
	case <-served:
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not return after the client closed")
	}
}

// TestHandlerServeReturnCloses: when serve returns, the connection is
// closed with a normal closure.
func TestHandlerServeReturnCloses(t *testing.T) {
	var up Upgrader
	srv := httptest.NewServer(up.Handler(func(c *Conn) {
		_ = c.WriteMessage(TextMessage, []byte("bye"))
	}))
	defer srv.Close()
	c, _, err := DefaultDialer.Dial(dialURL(srv), nil)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, p, err := c.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, "bye", string(p))
	_, _, err = c.ReadMessage()
	assert.True(t, IsCloseError(err, CloseNormalClosure), "got %v", err)
}

// syncBuffer is a goroutine-safe log destination.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestHandlerPanic: a panic in serve does not crash the process; the peer
// sees 1011 and the panic is logged to the server's ErrorLog with its stack,
// except http.ErrAbortHandler, which is silent (as in net/http).
func TestHandlerPanic(t *testing.T) {
	cases := []struct {
		name    string
		value   any
		wantLog string
	}{
		{name: "value", value: "boom", wantLog: "websocket: panic serving"},
		{name: "abort handler", value: http.ErrAbortHandler},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var up Upgrader
			var logs syncBuffer
			finished := make(chan struct{})
			srv := httptest.NewUnstartedServer(up.Handler(func(c *Conn) {
				defer close(finished)
				_, _, _ = c.ReadMessage()
				panic(tc.value)
			}))
			srv.Config.ErrorLog = log.New(&logs, "", 0)
			srv.Start()
			defer srv.Close()
			c, _, err := DefaultDialer.Dial(dialURL(srv), nil)
			require.NoError(t, err)
			defer c.Close()
			require.NoError(t, c.WriteMessage(TextMessage, []byte("go")))
			require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
			_, _, err = c.ReadMessage()
			assert.True(t, IsCloseError(err, CloseInternalServerErr), "got %v", err)
			<-finished
			if tc.wantLog == "" {
				// Give a wrongly logged line the time to appear.
				time.Sleep(50 * time.Millisecond)
				assert.Empty(t, logs.String())
				return
			}
			require.Eventually(t, func() bool { return strings.Contains(logs.String(), tc.wantLog) },
				5*time.Second, 10*time.Millisecond)
			assert.Contains(t, logs.String(), "boom")
			assert.Contains(t, logs.String(), "handler_test.go", "the log holds the stack")
		})
	}
}

// TestStressHandlerPipelined: 16 connections served by Handler at once each
// pipeline 10 messages, every other one with a "panic" in the middle, so
// serve panics while echoes are held. Every echo precedes the close frame
// (1000, or 1011 after a panic), every panic is logged, nothing leaks.
func TestStressHandlerPipelined(t *testing.T) {
	const conns, msgs = 16, 10
	var up Upgrader
	var logs syncBuffer
	srv := httptest.NewUnstartedServer(up.Handler(func(c *Conn) {
		for {
			mt, p, err := c.ReadMessage()
			if string(p) == "panic" {
				panic("stress panic")
			}
			if err != nil || c.WriteMessage(mt, p) != nil {
				return
			}
		}
	}))
	srv.Config.ErrorLog = log.New(&logs, "", 0)
	srv.Start()
	defer srv.Close()
	rcs := make([]*rawClient, conns)
	for i := range rcs {
		rcs[i] = rawDial(t, srv, "")
		b, _ := pipelinedFrames(msgs)
		if i%2 == 1 { // m0..m4, then the panic
			b, _ = pipelinedFrames(msgs / 2)
			b = append(b, rawFrame{fin: true, op: frame.OpText, payload: []byte("panic")}.encode()...)
		}
		rcs[i].sendBytes(b)
	}
	for i, rc := range rcs {
		wantN, wantCode := msgs, CloseNormalClosure
		if i%2 == 1 {
			wantN, wantCode = msgs/2, CloseInternalServerErr
		} else {
			rc.send(closeNormal)
		}
		code, before := rc.expectClose()
		assert.Equal(t, wantCode, code, "connection %d", i)
		require.Len(t, before, wantN, "connection %d", i)
		for k, f := range before {
			assert.Equal(t, fmt.Sprintf("m%d", k), string(f.payload), "connection %d", i)
		}
	}
	require.Eventually(t, func() bool {
		return strings.Count(logs.String(), "websocket: panic serving") == conns/2
	}, 5*time.Second, 10*time.Millisecond)
}

// pipeResponseWriter is an HTTP/2 response writer over one end of a
// net.Pipe, for RFC 8441 requests built by hand. Like net/http's, it
// supports deadlines.
type pipeResponseWriter struct {
	h  http.Header
	nc net.Conn
}

func (w *pipeResponseWriter) Header() http.Header         { return w.h }
func (w *pipeResponseWriter) WriteHeader(int)             {}
func (w *pipeResponseWriter) Write(p []byte) (int, error) { return w.nc.Write(p) }
func (w *pipeResponseWriter) Flush()                      {}

func (w *pipeResponseWriter) SetReadDeadline(t time.Time) error  { return w.nc.SetReadDeadline(t) }
func (w *pipeResponseWriter) SetWriteDeadline(t time.Time) error { return w.nc.SetWriteDeadline(t) }

// ctxKey keys the test's context values.
type ctxKey string

// TestHandlerWithRequest: serve sees what the request carried (the user an
// authentication middleware put in the context, the path value, the query,
// a cookie), its context is not canceled when net/http's handler returns,
// and a panic is handled alike over HTTP/1.1 and HTTP/2.
func TestHandlerWithRequest(t *testing.T) {
	var up Upgrader
	var logs syncBuffer
	mux := http.NewServeMux()
	mux.Handle("/rooms/{room}", up.HandlerWithRequest(func(c *Conn, r *http.Request) {
		if r.ProtoMajor == 1 {
			// net/http's handler has returned by now.
			select {
			case <-r.Context().Value(ctxKey("returned")).(chan struct{}):
			case <-time.After(5 * time.Second):
			}
		}
		if r.PathValue("room") == "panic" {
			_, _, _ = c.ReadMessage()
			panic("boom")
		}
		cookie, _ := r.Cookie("session")
		msg := fmt.Sprintf("%v %s %s %s ctx=%v body=%v", r.Context().Value(ctxKey("user")),
			r.PathValue("room"), r.URL.Query().Get("x"), cookie.Value, r.Context().Err(), r.Body == http.NoBody)
		_ = c.WriteMessage(TextMessage, []byte(msg))
		_, _, _ = c.ReadMessage()
	}))
	srvConfig := &http.Server{ErrorLog: log.New(&logs, "", 0)}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("session"); err != nil || c.Value != "s3cret" {
			http.Error(w, "unauthenticated", http.StatusUnauthorized)
			return
		}
		returned := make(chan struct{})
		defer close(returned)
		ctx := context.WithValue(r.Context(), ctxKey("user"), "ana")
		ctx = context.WithValue(ctx, ctxKey("returned"), returned)
		if r.ProtoMajor == 2 {
			ctx = context.WithValue(ctx, http.ServerContextKey, srvConfig)
		}
		mux.ServeHTTP(w, r.WithContext(ctx))
	})
	srv := httptest.NewUnstartedServer(handler)
	srv.Config.ErrorLog = srvConfig.ErrorLog
	srv.Start()
	defer srv.Close()

	cookie := "session=s3cret"
	dials := []struct {
		name string
		dial func(t *testing.T, path string) *Conn
	}{
		{"HTTP/1.1", func(t *testing.T, path string) *Conn {
			c, _, err := (&Dialer{}).Dial(dialURL(srv)+path, http.Header{"Cookie": {cookie}})
			require.NoError(t, err)
			return c
		}},
		{"HTTP/2", func(t *testing.T, path string) *Conn {
			a, b := net.Pipe()
			t.Cleanup(func() { a.Close(); b.Close() })
			// (Built as a GET: httptest parses a CONNECT target as an
			// authority, where HTTP/2 has a :path.)
			r := httptest.NewRequest(http.MethodGet, "https://127.0.0.1"+path, a)
			r.Method = http.MethodConnect
			r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/2.0", 2, 0
			r.ContentLength = -1
			r.Header.Set(":protocol", "websocket")
			r.Header.Set("Sec-WebSocket-Version", "13")
			r.Header.Set("Cookie", cookie)
			go handler.ServeHTTP(&pipeResponseWriter{h: http.Header{}, nc: a}, r)
			return newConn(b, connConfig{isServer: false})
		}},
	}
	for _, d := range dials {
		t.Run(d.name, func(t *testing.T) {
			c := d.dial(t, "/rooms/r1?x=1")
			require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
			_, p, err := c.ReadMessage()
			require.NoError(t, err)
			assert.Equal(t, "ana r1 1 s3cret ctx=<nil> body=true", string(p))
			require.NoError(t, c.Close())

			before := strings.Count(logs.String(), "websocket: panic serving")
			c = d.dial(t, "/rooms/panic")
			require.NoError(t, c.WriteMessage(TextMessage, []byte("go")))
			require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
			_, _, err = c.ReadMessage()
			assert.True(t, IsCloseError(err, CloseInternalServerErr), "got %v", err)
			require.Eventually(t, func() bool {
				return strings.Count(logs.String(), "websocket: panic serving") == before+1
			}, 5*time.Second, 10*time.Millisecond)
			assert.Contains(t, logs.String(), "boom")
		})
	}

	resp, err := http.Get(srv.URL + "/rooms/r1")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the middleware still guards the endpoint")
}
