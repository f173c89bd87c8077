package hub_test

import (
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsup/websocket"
	"github.com/wsup/websocket/hub"
)

// maxFlood bounds the publications of the slow-consumer tests: 2000 of
// 16 KiB, far more than the socket buffers of a stalled client hold.
const maxFlood = 2000

// TestSlowConsumerDropConnection fills the queues of two clients that do
// not read (a raw TCP one and a Conn) while a third reads every message:
// the reader gets them all in order, the two others are dropped with the
// configured close code and counted, and the hook sees both.
func TestSlowConsumerDropConnection(t *testing.T) {
	var hooked atomic.Int32
	s := newServer(t, hub.Options{
		Broker:        hub.NewMemoryBroker(0),
		QueueMessages: 8,
		SlowCloseCode: websocket.CloseTryAgainLater,
		// Long enough for the stuck Conn to be dropped, and start
		// reading, before its writer gives up on the write it is blocked
		// in (which would end it without a close frame).
		WriteTimeout: 30 * time.Second,
		Hooks: hub.Hooks{OnSlowConsumer: func(_ *websocket.Conn, dropped int, closed bool) {
			if closed && dropped == 0 {
				hooked.Add(1)
			}
		}},
	})
	reader, _ := s.dial(t, "topic=t")
	stalled(t, s, "topic=t")
	stuck, _ := s.dial(t, "topic=t")
	require.Eventually(t, func() bool { return s.h.Stats().Connections == 3 }, 5*time.Second, time.Millisecond)

	text := strings.Repeat("z", 16<<10)
	n := 1
	for ; n <= maxFlood && s.h.Stats().SlowDisconnects < 2; n++ {
		publish(t, s.h, "t", text)
		require.NoError(t, reader.SetReadDeadline(time.Now().Add(5*time.Second)))
		assert.Equal(t, "t "+strconv.Itoa(n)+" "+text, read(t, reader))
	}
	t.Logf("%d publications until both slow clients were dropped", n-1)
	require.Equal(t, uint64(2), s.h.Stats().SlowDisconnects)
	assert.Equal(t, int32(2), hooked.Load())
	require.Eventually(t, func() bool { return s.h.Stats().Connections == 1 }, 5*time.Second, time.Millisecond)

	// The stuck Conn, reading at last, finds messages in order, then 1013.
	require.NoError(t, stuck.SetReadDeadline(time.Now().Add(10*time.Second)))
	var err error
	prev := 0
	for err == nil {
		var p []byte
		_, p, err = stuck.ReadMessage()
		if err == nil {
			off, convErr := strconv.Atoi(strings.Fields(string(p))[1])
			require.NoError(t, convErr)
			require.Equal(t, prev+1, off)
			prev = off
		}
	}
	assert.True(t, websocket.IsCloseError(err, websocket.CloseTryAgainLater), "read error %v, want close 1013", err)
	assert.Less(t, prev, n)
}

// TestSlowConsumerDropOldest floods a client that does not read, under
// DropOldest: it stays connected, and when it reads it finds increasing
// offsets with holes, ending with the last publication.
func TestSlowConsumerDropOldest(t *testing.T) {
	var hookDropped atomic.Int64
	s := newServer(t, hub.Options{
		Broker:        hub.NewMemoryBroker(0),
		QueueMessages: 8,
		Policy:        hub.DropOldest,
		WriteTimeout:  30 * time.Second,
		Hooks: hub.Hooks{OnSlowConsumer: func(_ *websocket.Conn, dropped int, closed bool) {
			assert.False(t, closed)
			hookDropped.Add(int64(dropped))
		}},
	})
	c, _ := s.dial(t, "topic=t")
	text := strings.Repeat("z", 16<<10)
	n := 0
	for n < maxFlood && s.h.Stats().Dropped < 100 {
		n++
		publish(t, s.h, "t", text)
	}
	dropped := s.h.Stats().Dropped
	require.GreaterOrEqual(t, dropped, uint64(100), "after %d publications", n)
	assert.Equal(t, int64(dropped), hookDropped.Load())

	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	prev, got := 0, 0
	for prev < n {
		off, err := strconv.Atoi(strings.Fields(read(t, c))[1])
		require.NoError(t, err)
		require.Greater(t, off, prev)
		prev = off
		got++
	}
	assert.Equal(t, n, got+int(dropped), "received plus dropped")
	assert.Equal(t, uint64(0), s.h.Stats().SlowDisconnects)
}
