package websocket

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPing: Ping returns when the matching pong arrives, concurrently from
// several goroutines; it returns ctx.Err() when nobody answers.
func TestPing(t *testing.T) {
	sc, cc := connPair(t)
	go func() {
		for {
			if _, _, err := cc.ReadMessage(); err != nil {
				return
			}
		}
	}()
	go func() {
		for {
			if _, _, err := sc.ReadMessage(); err != nil {
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			assert.NoError(t, sc.Ping(ctx))
		}()
	}
	wg.Wait()

	// A peer that answers no pings.
	cc.SetPingHandler(func(string) error { return nil })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, sc.Ping(ctx), context.DeadlineExceeded)

	// Reading stops: Ping returns the read error.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	go func() {
		time.Sleep(20 * time.Millisecond)
		_ = cc.Close()
	}()
	err := sc.Ping(ctx2)
	assert.True(t, IsCloseError(err, CloseNormalClosure) || errors.Is(err, ErrCloseSent), "got %v", err)
}

// TestHandlers: custom ping and pong handlers run; a handler error becomes
// the read error.
func TestHandlers(t *testing.T) {
	sc, cc := connPair(t)
	var pongs []string
	cc.SetPongHandler(func(s string) error { pongs = append(pongs, s); return nil })
	boom := errors.New("boom")
	sc.SetPingHandler(func(s string) error {
		if s == "stop" {
			return boom
		}
		return sc.WriteControl(PongMessage, []byte("re:"+s), time.Now().Add(time.Second))
	})
	done := echoServer(sc)
	require.NoError(t, cc.WriteControl(PingMessage, []byte("1"), time.Now().Add(time.Second)))
	require.NoError(t, cc.WriteMessage(TextMessage, []byte("x")))
	_, p, err := cc.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, "x", string(p))
	assert.Equal(t, []string{"re:1"}, pongs)
	require.NoError(t, cc.WriteControl(PingMessage, []byte("stop"), time.Now().Add(time.Second)))
	assert.ErrorIs(t, waitErr(t, done), boom)
	assert.NotNil(t, sc.PingHandler())
	assert.NotNil(t, sc.PongHandler())
	assert.NotNil(t, sc.CloseHandler())
}
