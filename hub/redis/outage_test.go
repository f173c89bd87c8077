package redis_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsup/websocket/hub"
	"github.com/wsup/websocket/hub/redis"
)

// events collects a broker's and a hub's hook calls.
type events struct {
	errs        chan error
	resubscribe chan struct{}
	mu          sync.Mutex
	gaps        []*hub.GapError
}

func newEvents() *events {
	return &events{errs: make(chan error, 100), resubscribe: make(chan struct{}, 10)}
}

// newHub returns a hub over a broker of the Redis at r, its events, and
// the ws:// URL of a node handler serving it.
func newHub(t *testing.T, r *redisServer, history int) (*hub.Hub, *redis.Broker, *events, string) {
	t.Helper()
	ev := newEvents()
	b, err := redis.New(r.client(), redis.Options{
		HistorySize: history,
		Prefix:      "test:",
		PresenceTTL: 3 * time.Second,
		OnError: func(err error) {
			select {
			case ev.errs <- err:
			default:
			}
		},
		OnResubscribed: func() { ev.resubscribe <- struct{}{} },
	})
	require.NoError(t, err)
	h, err := hub.New(hub.Options{Broker: b, Frame: frame, Hooks: hub.Hooks{OnGap: func(err *hub.GapError) {
		ev.mu.Lock()
		ev.gaps = append(ev.gaps, err)
		ev.mu.Unlock()
	}}})
	require.NoError(t, err)
	url := startHTTP(t, h)
	t.Cleanup(func() {
		_ = h.Close()
		_ = b.Close()
	})
	return h, b, ev, url
}

// startHTTP serves h with the node handler and returns its ws:// URL.
func startHTTP(t *testing.T, h *hub.Hub) string {
	t.Helper()
	srv := httptest.NewServer(newNodeHandler(h))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

func publish(t *testing.T, h *hub.Hub, topic, data string) (hub.Position, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return h.Publish(ctx, topic, 1, []byte(data))
}

// TestRedisRestart kills Redis (no persistence) under two hubs while a
// client listens, and starts it again: publishing fails meanwhile, the
// broker reports the lost connection and its return, the subscription
// works again by itself, the hub reports the gap (the new Redis started
// new epochs), and a client resuming from before the outage is told.
func TestRedisRestart(t *testing.T) {
	r := startRedis(t)
	h1, _, _, _ := newHub(t, r, 100)
	_, _, ev2, url2 := newHub(t, r, 100)
	c, _ := dial(t, url2, "topic=t")

	var last msg
	for i := range 10 {
		_, err := publish(t, h1, "t", "before"+string(rune('0'+i)))
		require.NoError(t, err)
		last = parse(t, read(t, c))
	}
	require.Equal(t, uint64(10), last.pos.Offset)

	r.kill()
	select {
	case err := <-ev2.errs:
		assert.ErrorContains(t, err, "subscription connection lost")
	case <-time.After(10 * time.Second):
		t.Fatal("the broker did not report the lost connection")
	}
	_, err := publish(t, h1, "t", "lost")
	assert.Error(t, err, "publish while Redis is down")

	r.start()
	select {
	case <-ev2.resubscribe:
	case <-time.After(15 * time.Second):
		t.Fatal("the broker did not subscribe again")
	}
	pos, err := publish(t, h1, "t", "after")
	require.NoError(t, err)
	assert.Equal(t, uint64(1), pos.Offset, "a new epoch starts at 1")
	assert.NotEqual(t, last.pos.Epoch, pos.Epoch)
	got := parse(t, read(t, c))
	assert.Equal(t, msg{pos, "after"}, got)

	ev2.mu.Lock()
	require.Len(t, ev2.gaps, 1)
	gap := ev2.gaps[0]
	ev2.mu.Unlock()
	assert.Equal(t, last.pos, gap.Since)
	assert.Equal(t, pos, gap.Current)

	// A client that resumes from before the outage learns of the gap and
	// gets what the new epoch kept.
	_, before := dial(t, url2, "topic=t&since="+last.pos.String())
	require.Len(t, before, 2)
	assert.Equal(t, msg{pos, "after"}, parse(t, before[0]))
	assert.Equal(t, "gap", before[1])
}

// TestPresence counts subscribers of two hubs; a hub's broker that closes
// takes its count away.
func TestPresence(t *testing.T) {
	r := startRedis(t)
	h1, b1, _, url1 := newHub(t, r, 0)
	h2, _, _, url2 := newHub(t, r, 0)
	for range 3 {
		dial(t, url1, "topic=p")
	}
	for range 2 {
		dial(t, url2, "topic=p")
	}
	count := func(h *hub.Hub) int {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := h.Presence(ctx, "p")
		require.NoError(t, err)
		return n
	}
	require.Eventually(t, func() bool { return count(h1) == 5 && count(h2) == 5 }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, b1.Close())
	assert.Equal(t, 2, count(h2))
}
