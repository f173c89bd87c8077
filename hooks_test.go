package websocket

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wsup/websocket/frame"
)

// TestHooks: OnOpen, OnClose with the code and OnReject with the status.
func TestHooks(t *testing.T) {
	var mu sync.Mutex
	var events []string
	record := func(s string) { mu.Lock(); events = append(events, s); mu.Unlock() }
	closed := make(chan struct{})
	up := Upgrader{Hooks: Hooks{
		OnOpen: func(*Conn) { record("open") },
		OnClose: func(_ *Conn, code int, d time.Duration) {
			record(fmt.Sprintf("close %d", code))
			assert.Greater(t, d, time.Duration(0))
			close(closed)
		},
		OnReject: func(_ *http.Request, status int, err error) {
			record(fmt.Sprintf("reject %d", status))
			assert.ErrorIs(t, err, ErrMissingUpgrade)
		},
	}}
	srv := httptest.NewServer(up.Handler(func(c *Conn) { _, _, _ = c.ReadMessage() }))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	rc := rawDial(t, srv, "")
	rc.send(rawFrame{fin: true, op: frame.OpClose, payload: closePayload(4001, "bye")})
	rc.expectClose()
	<-closed
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"reject 426", "open", "close 4001"}, events)
}
