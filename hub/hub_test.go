package hub_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsup/websocket"
	"github.com/wsup/websocket/hub"
)

// frameOffset frames a publication as "TOPIC OFFSET DATA", so that tests
// see where each message stands.
func frameOffset(p hub.Publication) []byte {
	return fmt.Appendf(nil, "%s %d %s", p.Topic, p.Position.Offset, p.Data)
}

// server serves h at /ws: a client names its topics in the query
// (?topic=a&topic=b) and, to resume, its position (?since=EPOCH:N). The
// server sends "gap" through the hub when Resume reports one.
type server struct {
	*httptest.Server
	h *hub.Hub

	mu       sync.Mutex
	resumeEr []error // what Resume returned, in order
}

func newServer(t *testing.T, opts hub.Options) *server {
	t.Helper()
	if opts.Frame == nil {
		opts.Frame = frameOffset
	}
	h, err := hub.New(opts)
	require.NoError(t, err)
	s := &server{h: h}
	var up websocket.Upgrader
	s.Server = httptest.NewServer(up.HandlerWithRequest(func(c *websocket.Conn, r *http.Request) {
		defer h.Leave(c)
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		for _, topic := range r.URL.Query()["topic"] {
			if since, ok := r.URL.Query()["since"]; ok {
				pos, err := hub.ParsePosition(since[0])
				if err != nil {
					return
				}
				err = h.Resume(ctx, c, topic, pos)
				s.mu.Lock()
				s.resumeEr = append(s.resumeEr, err)
				s.mu.Unlock()
				if errors.Is(err, hub.ErrGap) {
					_ = h.Send(c, websocket.TextMessage, []byte("gap"))
				} else if err != nil {
					return
				}
			} else if err := h.Subscribe(ctx, c, topic); err != nil {
				return
			}
		}
		_ = h.Send(c, websocket.TextMessage, []byte("ready"))
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}))
	t.Cleanup(func() {
		s.Close()
		_ = h.Close()
		_ = opts.Broker.Close()
	})
	return s
}

// dial connects a client with the query q and reads up to its "ready"
// (returning what came before it). Reads fail after 10 seconds.
func (s *server) dial(t *testing.T, q string) (*websocket.Conn, []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.DefaultDialer.DialContext(ctx, "ws"+strings.TrimPrefix(s.URL, "http")+"/?"+q, nil)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	var before []string
	for {
		m := read(t, c)
		if m == "ready" {
			return c, before
		}
		before = append(before, m)
	}
}

func read(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	_, p, err := c.ReadMessage()
	require.NoError(t, err)
	return string(p)
}

func publish(t *testing.T, h *hub.Hub, topic string, data string) hub.Position {
	t.Helper()
	pos, err := h.Publish(context.Background(), topic, websocket.TextMessage, []byte(data))
	require.NoError(t, err)
	return pos
}

// TestOrderAndTopics publishes on two topics to clients subscribed to one
// or both: each gets its topics' messages, in publish order, with
// consecutive offsets, and nothing of the other topic.
func TestOrderAndTopics(t *testing.T) {
	// The queues hold all: the clients read once everything is published.
	s := newServer(t, hub.Options{Broker: hub.NewMemoryBroker(0), QueueMessages: 1000})
	a, _ := s.dial(t, "topic=a")
	b, _ := s.dial(t, "topic=b")
	ab, _ := s.dial(t, "topic=a&topic=b")

	const n = 200
	var wg sync.WaitGroup
	for _, topic := range []string{"a", "b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1; i <= n; i++ {
				_, err := s.h.Publish(context.Background(), topic, websocket.TextMessage, []byte(strconv.Itoa(i)))
				assert.NoError(t, err)
			}
		}()
	}
	wg.Wait()

	cases := []struct {
		name   string
		conn   *websocket.Conn
		topics []string
	}{{"a", a, []string{"a"}}, {"b", b, []string{"b"}}, {"a and b", ab, []string{"a", "b"}}}
	for _, tc := range cases {
		next := map[string]int{}
		for range n * len(tc.topics) {
			f := strings.Fields(read(t, tc.conn))
			require.Len(t, f, 3)
			next[f[0]]++
			assert.Equal(t, strconv.Itoa(next[f[0]]), f[1], "%s: offset", tc.name)
			assert.Equal(t, strconv.Itoa(next[f[0]]), f[2], "%s: data", tc.name)
		}
		for _, topic := range tc.topics {
			assert.Equal(t, n, next[topic], "%s: messages of %s", tc.name, topic)
		}
		assert.Len(t, next, len(tc.topics), "%s: topics received", tc.name)
	}
	st := s.h.Stats()
	assert.Equal(t, uint64(4*n+3), st.Delivered) // and the three "ready"
	assert.Equal(t, 2, st.Topics)
}

// TestBadInput checks the errors of bad publications.
func TestBadInput(t *testing.T) {
	h, err := hub.New(hub.Options{})
	require.NoError(t, err)
	defer h.Close()
	cases := []struct {
		name string
		typ  int
		data []byte
	}{
		{"ping", websocket.PingMessage, nil},
		{"unknown type", 42, []byte("x")},
		{"text not UTF-8", websocket.TextMessage, []byte{0xff, 0xfe}},
	}
	for _, tc := range cases {
		_, err := h.Publish(context.Background(), "t", tc.typ, tc.data)
		assert.ErrorIs(t, err, hub.ErrBadMessage, tc.name)
	}
	for _, topic := range []string{"", strings.Repeat("t", hub.MaxTopicLen+1), "a\nb", "\xff"} {
		_, err := h.Publish(context.Background(), topic, websocket.TextMessage, nil)
		assert.ErrorIs(t, err, hub.ErrBadTopic, "%q", topic)
		assert.ErrorIs(t, h.Subscribe(context.Background(), nil, topic), hub.ErrBadTopic, "%q", topic)
		assert.ErrorIs(t, h.Resume(context.Background(), nil, topic, hub.Position{}), hub.ErrBadTopic, "%q", topic)
	}
	require.NoError(t, h.Close())
	_, err = h.Publish(context.Background(), "t", websocket.TextMessage, nil)
	assert.ErrorIs(t, err, hub.ErrClosed)
}

// TestPresenceAndLeave counts subscribers as they come and go, and checks
// that a client that left gets nothing more.
func TestPresenceAndLeave(t *testing.T) {
	s := newServer(t, hub.Options{Broker: hub.NewMemoryBroker(0)})
	ctx := context.Background()
	var conns []*websocket.Conn
	for i := range 3 {
		c, _ := s.dial(t, "topic=room")
		conns = append(conns, c)
		n, err := s.h.Presence(ctx, "room")
		require.NoError(t, err)
		assert.Equal(t, i+1, n)
	}
	require.NoError(t, conns[0].Close()) // the server's read loop ends: Leave
	require.Eventually(t, func() bool { n, _ := s.h.Presence(ctx, "room"); return n == 2 }, 5*time.Second, time.Millisecond)
	publish(t, s.h, "room", "after")
	for _, c := range conns[1:] {
		assert.Equal(t, "room 1 after", read(t, c))
	}
	assert.Equal(t, 2, s.h.Stats().Connections)
}

// TestCloseSendsGoingAway checks that Hub.Close flushes each queue and
// then closes with 1001.
func TestCloseSendsGoingAway(t *testing.T) {
	s := newServer(t, hub.Options{Broker: hub.NewMemoryBroker(0)})
	c, _ := s.dial(t, "topic=x")
	publish(t, s.h, "x", "last")
	require.NoError(t, s.h.Close())
	assert.Equal(t, "x 1 last", read(t, c))
	_, _, err := c.ReadMessage()
	assert.True(t, websocket.IsCloseError(err, websocket.CloseGoingAway), "read error %v", err)
	assert.ErrorIs(t, s.h.Subscribe(context.Background(), c, "x"), hub.ErrClosed)
}

// stalled completes a handshake over raw TCP and never reads: its queue
// fills once the socket buffers are full.
func stalled(t *testing.T, s *server, q string) {
	t.Helper()
	addr := s.Listener.Addr().String()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	require.NoError(t, c.SetDeadline(time.Now().Add(30*time.Second)))
	_, err = fmt.Fprintf(c, "GET /?%s HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"+
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", q, addr)
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReaderSize(c, 512), nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
}

// TestCloseFlushesQueue closes the hub while many messages are queued:
// the client gets all of them, then 1001, and Close returns.
func TestCloseFlushesQueue(t *testing.T) {
	s := newServer(t, hub.Options{Broker: hub.NewMemoryBroker(0), QueueMessages: 1000})
	c, _ := s.dial(t, "topic=x")
	const n = 500
	for i := 1; i <= n; i++ {
		publish(t, s.h, "x", strings.Repeat("m", 1000))
	}
	closed := make(chan error, 1)
	go func() { closed <- s.h.Close() }()
	for i := 1; i <= n; i++ {
		require.Equal(t, "x "+strconv.Itoa(i)+" "+strings.Repeat("m", 1000), read(t, c))
	}
	_, _, err := c.ReadMessage()
	assert.True(t, websocket.IsCloseError(err, websocket.CloseGoingAway), "read error %v", err)
	select {
	case err := <-closed:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
}

// TestClosedWithoutLeave: a connection whose handler returns without
// Leave (Upgrader.Handler then closes it) is forgotten by the hub, its
// writer goroutine ended, without any publication to notice it.
func TestClosedWithoutLeave(t *testing.T) {
	h, err := hub.New(hub.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = h.Close() })
	var up websocket.Upgrader
	srv := httptest.NewServer(up.Handler(func(c *websocket.Conn) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if h.Subscribe(ctx, c, "quiet") != nil {
			return
		}
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return // no Leave
			}
		}
	}))
	t.Cleanup(srv.Close)
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return h.Stats().Connections == 1 }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, c.Close())
	assert.Eventually(t, func() bool { return h.Stats().Connections == 0 }, 5*time.Second, 10*time.Millisecond,
		"the closed connection is still in the hub")
	n, err := h.Presence(context.Background(), "quiet")
	require.NoError(t, err)
	assert.Zero(t, n)
}
