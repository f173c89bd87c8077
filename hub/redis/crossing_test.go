package redis_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsup/websocket"
	"github.com/wsup/websocket/hub"
)

// dial connects to the node at base with query q and reads up to "ready",
// returning what came before. Reads fail after 10 seconds.
func dial(t *testing.T, base, q string) (*websocket.Conn, []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.DefaultDialer.DialContext(ctx, base+"/?"+q, nil)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
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
	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, p, err := c.ReadMessage()
	require.NoError(t, err)
	return string(p)
}

func send(t *testing.T, c *websocket.Conn, text string) {
	t.Helper()
	require.NoError(t, c.WriteMessage(websocket.TextMessage, []byte(text)))
}

// msg is a message framed by frame: its position and data.
type msg struct {
	pos  hub.Position
	data string
}

func parse(t *testing.T, s string) msg {
	t.Helper()
	tok, data, ok := strings.Cut(s, " ")
	require.True(t, ok, "message %q", s)
	pos, err := hub.ParsePosition(tok)
	require.NoError(t, err, "message %q", s)
	return msg{pos, data}
}

// TestTwoProcesses runs two hubs in two processes over one Redis, with
// two clients on each: what the clients publish, concurrently, reaches all
// four, in the same order, with consecutive offsets.
func TestTwoProcesses(t *testing.T) {
	r := startRedis(t)
	nodes := []string{startNode(t, r.addr()), startNode(t, r.addr())}
	var clients []*websocket.Conn
	for i := range 4 {
		c, before := dial(t, nodes[i%2], "topic=room")
		assert.Empty(t, before)
		clients = append(clients, c)
	}
	const perClient = 25
	for i := range perClient {
		for j, c := range clients {
			send(t, c, "client"+strconv.Itoa(j)+"-"+strconv.Itoa(i))
		}
	}
	var first []msg
	for j, c := range clients {
		var got []msg
		for range perClient * len(clients) {
			got = append(got, parse(t, read(t, c)))
		}
		for k, m := range got {
			assert.Equal(t, uint64(k+1), m.pos.Offset, "client %d, message %d", j, k)
		}
		if first == nil {
			first = got
			continue
		}
		assert.Equal(t, first, got, "client %d does not see the order client 0 sees", j)
	}
	// Each client's own messages are in the order it sent them.
	next := map[string]int{}
	for _, m := range first {
		who, n, ok := strings.Cut(m.data, "-")
		require.True(t, ok)
		assert.Equal(t, strconv.Itoa(next[who]), n, "%s's messages out of order", who)
		next[who]++
	}
}

// TestResumeOnOtherServer has a client lose its connection to one server
// while publications go on, and reconnect to the other with its last
// position: it gets the missed publications, in order, then the live
// ones. A position older than the history gets the "gap" notice.
func TestResumeOnOtherServer(t *testing.T) {
	r := startRedis(t)
	a, b := startNode(t, r.addr()), startNode(t, r.addr())
	talker, _ := dial(t, a, "topic=news")
	reader, _ := dial(t, a, "topic=news")

	for i := 1; i <= 5; i++ {
		send(t, talker, strconv.Itoa(i))
	}
	for range 5 {
		_ = read(t, talker) // its own: the talker reads everything it sends
	}
	var last msg
	for range 5 {
		last = parse(t, read(t, reader))
	}
	require.Equal(t, uint64(5), last.pos.Offset)
	require.NoError(t, reader.Close())

	for i := 6; i <= 20; i++ {
		send(t, talker, strconv.Itoa(i))
	}
	for range 15 {
		_ = read(t, talker) // the talker's own messages: all published
	}
	back, before := dial(t, b, "topic=news&since="+last.pos.String())
	var got []string
	for _, s := range before {
		got = append(got, parse(t, s).data)
	}
	send(t, talker, "21")
	got = append(got, parse(t, read(t, back)).data)
	want := make([]string, 0, 16)
	for i := 6; i <= 21; i++ {
		want = append(want, strconv.Itoa(i))
	}
	assert.Equal(t, want, got)

	// The nodes keep 100: a position 150 back is a gap.
	for i := 22; i <= 160; i++ {
		send(t, talker, strconv.Itoa(i))
	}
	for range 160 - 21 {
		_ = read(t, talker)
	}
	old := hub.Position{Epoch: last.pos.Epoch, Offset: 10}
	_, before = dial(t, b, "topic=news&since="+old.String())
	require.Len(t, before, 101)
	assert.Equal(t, "61", parse(t, before[0]).data, "the oldest kept")
	assert.Equal(t, "gap", before[100])
}
