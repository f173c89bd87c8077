package websocket

import (
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKeepaliveBusyApplication: while the application spends many
// keepalive periods on one message without reading, a healthy peer's pongs
// arrive unread and still count: the connection stays open, and the next
// message is read afterwards.
func TestKeepaliveBusyApplication(t *testing.T) {
	sc, cc := connPair(t)
	sc.startKeepalive(20*time.Millisecond, 20*time.Millisecond, 0)
	var pings atomic.Int32
	cc.SetPingHandler(func(s string) error {
		pings.Add(1)
		return cc.WriteControl(PongMessage, []byte(s), time.Now().Add(time.Second))
	})
	clientRead := readLoop(cc)
	require.NoError(t, cc.WriteMessage(TextMessage, []byte("first")))
	_, p, err := sc.ReadMessage()
	require.NoError(t, err)
	require.Equal(t, "first", string(p))
	// The server is busy (it does not read) until ten pings were answered:
	// ten periods, where a missed pong closes the connection after one.
	for pings.Load() < 10 {
		select {
		case err := <-clientRead:
			t.Fatalf("connection closed while the server was busy: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	require.NoError(t, cc.WriteMessage(TextMessage, []byte("second")))
	_, p, err = sc.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, "second", string(p))
	require.NoError(t, sc.Close())
	within(t, clientRead, 10*time.Second, "the client's read")
}

// TestKeepaliveUnreadSilentPeer: a peer that stops answering is still
// found out while the application does not read, even though an earlier
// pong sits unread: only bytes that arrived since count.
func TestKeepaliveUnreadSilentPeer(t *testing.T) {
	s, c := tcpPair(t)
	sc := newConn(s, connConfig{isServer: true})
	rc := newRawClient(t, c)
	sc.startKeepalive(20*time.Millisecond, 20*time.Millisecond, 0)
	f, err := rc.read()
	require.NoError(t, err)
	require.Equal(t, PingMessage, int(f.h.Opcode))
	rc.send(rawFrame{fin: true, op: 0xA, payload: f.payload}) // one pong, then silence
	code, _ := rc.expectClose()
	assert.Equal(t, CloseGoingAway, code)
	_, _, err = sc.ReadMessage()
	assert.ErrorIs(t, err, ErrKeepaliveTimeout)
}

// TestDialerKeepalive: the Dialer's keepalive and write bound apply to the
// client Conn: a server that never answers pings is closed with
// ErrKeepaliveTimeout.
func TestDialerKeepalive(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := (&Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		c.SetPingHandler(func(string) error { return nil }) // never answers
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	d := &Dialer{PingInterval: 20 * time.Millisecond, PongTimeout: 20 * time.Millisecond, WriteTimeout: -1}
	cc, _, err := d.Dial("ws://"+ln.Addr().String(), nil)
	require.NoError(t, err)
	assert.Equal(t, time.Duration(-1), cc.writeTimeout)
	_, _, err = cc.ReadMessage()
	assert.ErrorIs(t, err, ErrKeepaliveTimeout)
	assert.True(t, strings.Contains(err.Error(), "keepalive"), "%v", err)
}

// TestKeepaliveClosesSilentPeer: a peer that never answers pings is closed
// with 1001 and the read fails with ErrKeepaliveTimeout.
func TestKeepaliveClosesSilentPeer(t *testing.T) {
	s, c := tcpPair(t)
	sc := newConn(s, connConfig{isServer: true})
	sc.startKeepalive(30*time.Millisecond, 30*time.Millisecond, 0)
	done := make(chan error, 1)
	go func() {
		_, _, err := sc.ReadMessage()
		done <- err
	}()
	rc := newRawClient(t, c)
	f, err := rc.read()
	require.NoError(t, err)
	assert.Equal(t, PingMessage, int(f.h.Opcode), "keepalive pings first")
	code, _ := rc.expectClose()
	assert.Equal(t, CloseGoingAway, code)
	assert.ErrorIs(t, waitErr(t, done), ErrKeepaliveTimeout)
}

// TestKeepaliveAnsweredPeerStays: a peer answering pings keeps the
// connection open across many intervals.
func TestKeepaliveAnsweredPeerStays(t *testing.T) {
	sc, cc := connPair(t)
	sc.startKeepalive(10*time.Millisecond, 200*time.Millisecond, 0)
	pings := 0
	var mu sync.Mutex
	cc.SetPingHandler(func(s string) error {
		mu.Lock()
		pings++
		mu.Unlock()
		return cc.WriteControl(PongMessage, []byte(s), time.Now().Add(time.Second))
	})
	go func() {
		for {
			if _, _, err := cc.ReadMessage(); err != nil {
				return
			}
		}
	}()
	serverErr := make(chan error, 1)
	go func() {
		_, _, err := sc.ReadMessage()
		serverErr <- err
	}()
	time.Sleep(300 * time.Millisecond)
	select {
	case err := <-serverErr:
		t.Fatalf("connection closed: %v", err)
	default:
	}
	mu.Lock()
	assert.Greater(t, pings, 3)
	mu.Unlock()
	require.NoError(t, sc.Close())
	assert.Error(t, <-serverErr)
}

// TestIdleTimeout: no data messages for the idle time closes the
// connection even though the peer answers pings.
func TestIdleTimeout(t *testing.T) {
	sc, cc := connPair(t)
	sc.startKeepalive(10*time.Millisecond, time.Second, 100*time.Millisecond)
	clientErr := make(chan error, 1)
	go func() {
		for {
			if _, _, err := cc.ReadMessage(); err != nil {
				clientErr <- err
				return
			}
		}
	}()
	start := time.Now()
	_, _, err := sc.ReadMessage()
	assert.ErrorIs(t, err, ErrIdleTimeout)
	assert.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond)
	assert.True(t, IsCloseError(<-clientErr, CloseGoingAway))
}
