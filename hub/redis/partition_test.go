package redis_test

import (
	"bytes"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsup/websocket/hub"
	"github.com/wsup/websocket/hub/redis"
)

// freezingProxy forwards loopback TCP connections to a Redis; freeze stops
// forwarding on the pub/sub connections open at that moment (those whose
// client sent SUBSCRIBE) without closing them, as a network partition
// does. Connections opened later are forwarded.
type freezingProxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	pubsub []chan struct{} // closed by freeze: the forwarding of that connection stops
	conns  []net.Conn
}

func startProxy(t *testing.T, target string) *freezingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &freezingProxy{ln: ln, target: target}
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, c := range p.conns {
			c.Close()
		}
	})
	return p
}

func (p *freezingProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		r, err := net.DialTimeout("tcp", p.target, time.Second)
		if err != nil {
			c.Close()
			continue
		}
		frozen := make(chan struct{})
		p.mu.Lock()
		p.conns = append(p.conns, c, r)
		p.mu.Unlock()
		go p.forward(r, c, frozen, true)
		go p.forward(c, r, frozen, false)
	}
}

// forward copies from src to dst until frozen is closed (then it holds
// the connection open, silent) or a side fails.
func (p *freezingProxy) forward(dst, src net.Conn, frozen chan struct{}, fromClient bool) {
	buf := make([]byte, 32<<10)
	marked := false
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if fromClient && !marked && bytes.Contains(bytes.ToLower(buf[:n]), []byte("subscribe")) {
				marked = true
				p.mu.Lock()
				p.pubsub = append(p.pubsub, frozen)
				p.mu.Unlock()
			}
			select {
			case <-frozen:
				_, _ = io.Copy(io.Discard, src) // silent until closed
				return
			default:
			}
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// freeze stops the pub/sub connections open now.
func (p *freezingProxy) freeze() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.pubsub)
	for _, f := range p.pubsub {
		close(f)
	}
	p.pubsub = nil
	return n
}

// TestPartition silences a hub's subscription connection without closing
// it while another hub publishes: the broker notices the silence, reports
// it, connects again, and the hub fills the publications it missed from
// the stream, so that its client gets every one, in order.
func TestPartition(t *testing.T) {
	r := startRedis(t)
	proxy := startProxy(t, r.addr())
	h1, _, _, _ := newHub(t, r, 100)

	ev := newEvents()
	rdb := goredis.NewClient(&goredis.Options{Addr: proxy.ln.Addr().String(), DialTimeout: time.Second})
	t.Cleanup(func() { rdb.Close() })
	b, err := redis.New(rdb, redis.Options{
		HistorySize:    100,
		Prefix:         "test:",
		OnError:        func(err error) { ev.errs <- err },
		OnResubscribed: func() { ev.resubscribe <- struct{}{} },
	})
	require.NoError(t, err)
	h2, url2 := serveHub(t, b)
	c, _ := dial(t, url2, "topic=t")

	for range 3 {
		_, err := publish(t, h1, "t", "x")
		require.NoError(t, err)
		_ = read(t, c)
	}
	require.Equal(t, 1, proxy.freeze(), "pub/sub connections frozen")
	for range 5 {
		_, err := publish(t, h1, "t", "during")
		require.NoError(t, err)
	}
	select {
	case err := <-ev.errs:
		assert.ErrorContains(t, err, "no answer to pings")
	case <-time.After(20 * time.Second):
		t.Fatal("the broker did not notice the silent connection")
	}
	select {
	case <-ev.resubscribe:
	case <-time.After(20 * time.Second):
		t.Fatal("the broker did not subscribe again")
	}
	_, err = publish(t, h1, "t", "after")
	require.NoError(t, err)
	var got []uint64
	for len(got) == 0 || got[len(got)-1] < 9 {
		got = append(got, parse(t, read(t, c)).pos.Offset)
	}
	assert.Equal(t, []uint64{4, 5, 6, 7, 8, 9}, got)
	st := h2.Stats()
	assert.Equal(t, uint64(5), st.Refilled)
	assert.Equal(t, uint64(0), st.Gaps)
}

// serveHub serves a hub over b with the node handler.
func serveHub(t *testing.T, b *redis.Broker) (*hub.Hub, string) {
	t.Helper()
	h, err := hub.New(hub.Options{Broker: b, Frame: frame})
	require.NoError(t, err)
	srv := startHTTP(t, h)
	t.Cleanup(func() {
		_ = h.Close()
		_ = b.Close()
	})
	return h, srv
}
