package websocket

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadMessageContextCancel: cancelling the context unblocks a read.
func TestReadMessageContextCancel(t *testing.T) {
	sc, _ := connPair(t)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, _, err := sc.ReadMessageContext(ctx)
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case err := <-errc:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(5 * time.Second):
		t.Fatal("read not unblocked by cancel")
	}
	// The read side is broken; later reads report the cancellation too.
	_, _, err := sc.ReadMessage()
	assert.ErrorIs(t, err, context.Canceled)
}

func TestReadMessageContextDeadline(t *testing.T) {
	sc, cc := connPair(t)
	require.NoError(t, cc.WriteMessage(TextMessage, []byte("in time")))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, p, err := sc.ReadMessageContext(ctx)
	require.NoError(t, err)
	assert.Equal(t, "in time", string(p))

	ctx2, cancel2 := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel2()
	_, _, err = sc.ReadMessageContext(ctx2)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

// TestWriteMessageContext: a writer waiting behind another gives up when
// its context ends, without breaking the connection.
func TestWriteMessageContext(t *testing.T) {
	sc, cc := connPair(t)
	w, err := sc.NextWriter(TextMessage)
	require.NoError(t, err)
	first := strings.Repeat("first", 2000) // past the write buffer: the message lock is taken
	_, err = w.Write([]byte(first))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, sc.WriteMessageContext(ctx, TextMessage, []byte("late")), context.DeadlineExceeded)
	require.NoError(t, w.Close())
	require.NoError(t, sc.WriteMessageContext(context.Background(), BinaryMessage, []byte("second")))
	for _, want := range []string{first, "second"} {
		_, p, err := cc.ReadMessage()
		require.NoError(t, err)
		assert.Equal(t, want, string(p))
	}
	canceled, cancel3 := context.WithCancel(context.Background())
	cancel3()
	assert.ErrorIs(t, sc.WriteMessageContext(canceled, TextMessage, nil), context.Canceled)
	assert.ErrorIs(t, sc.WriteMessageContext(context.Background(), 7, nil), ErrBadMessageType)
}

// TestWriteMessageContextCancelMidWrite: cancel while the frame is stuck
// on a peer that does not read ends the write with the context's error.
func TestWriteMessageContextCancelMidWrite(t *testing.T) {
	sc, _ := connPair(t)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- sc.WriteMessageContext(ctx, BinaryMessage, make([]byte, 64<<20)) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-errc:
		assert.Error(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("write not unblocked by cancel")
	}
}

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

// TestWriteContextEndAfterWrite: a context that ends just after its write
// completed (its callback moved the socket's write deadline into the past)
// does not break the next write.
func TestWriteContextEndAfterWrite(t *testing.T) {
	srv, cl := connPair(t)
	ctx, cancel := context.WithCancel(context.Background())
	unbind := srv.bindWriteContext(ctx)
	require.NoError(t, srv.WriteMessage(TextMessage, []byte("first")))
	cancel() // the write is over, but unbind has not run yet
	require.Eventually(t, srv.deadlineReset.Load, 5*time.Second, time.Millisecond)
	unbind()
	require.NoError(t, srv.WriteMessage(TextMessage, []byte("second")))
	require.NoError(t, cl.SetReadDeadline(time.Now().Add(5*time.Second)))
	for _, want := range []string{"first", "second"} {
		_, p, err := cl.ReadMessage()
		require.NoError(t, err)
		assert.Equal(t, want, string(p))
	}
}
