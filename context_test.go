package websocket

import (
	"context"
	"net"
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

// watchedConn is a net.Conn that reports what the Conn does with it: it
// signals pastDeadline when a read deadline in the past is set (a context
// watcher breaking a read), signals reading when a Read starts, and
// remembers the last read deadline set.
type watchedConn struct {
	net.Conn
	pastDeadline chan struct{} // buffered; one signal per past deadline
	reading      chan struct{} // buffered; one signal per Read

	mu           sync.Mutex
	readDeadline time.Time // the last one set
}

func newWatchedConn(nc net.Conn) *watchedConn {
	return &watchedConn{Conn: nc, pastDeadline: make(chan struct{}, 16), reading: make(chan struct{}, 16)}
}

func (c *watchedConn) SetReadDeadline(t time.Time) error {
	err := c.Conn.SetReadDeadline(t)
	c.mu.Lock()
	c.readDeadline = t
	c.mu.Unlock()
	if !t.IsZero() && t.Before(time.Now()) {
		select {
		case c.pastDeadline <- struct{}{}:
		default:
		}
	}
	return err
}

func (c *watchedConn) Read(p []byte) (int, error) {
	select {
	case c.reading <- struct{}{}:
	default:
	}
	return c.Conn.Read(p)
}

func (c *watchedConn) lastReadDeadline() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readDeadline
}

// watchedPair is connPair with the server Conn over a watchedConn.
func watchedPair(t *testing.T) (server *Conn, watched *watchedConn, client *Conn) {
	s, c := tcpPair(t)
	watched = newWatchedConn(s)
	return newConn(watched, connConfig{isServer: true}), watched, newConn(c, connConfig{isServer: false})
}

// waitSignal waits for a signal on ch, failing the test after testIOTimeout.
func waitSignal(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(testIOTimeout):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// setReadContextHook installs testHookReadContextRead for the test.
func setReadContextHook(t *testing.T, hook func()) {
	require.Nil(t, testHookReadContextRead)
	testHookReadContextRead = hook
	t.Cleanup(func() { testHookReadContextRead = nil })
}

// TestReadMessageContextEndsAfterRead: a context that ends after the read
// completed but before ReadMessageContext stopped watching it (its watcher
// has already moved the read deadline into the past) must not break the
// connection. The caller gets the message, the read deadline the
// application set is back in force, and the next read returns the next
// message.
func TestReadMessageContextEndsAfterRead(t *testing.T) {
	cases := []struct {
		name     string
		deadline time.Duration // application read deadline from now; 0: none
	}{
		{name: "no read deadline"},
		{name: "application read deadline", deadline: time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sc, watched, cc := watchedPair(t)
			var appDeadline time.Time
			if tc.deadline > 0 {
				appDeadline = time.Now().Add(tc.deadline)
			}
			require.NoError(t, sc.SetReadDeadline(appDeadline))

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			setReadContextHook(t, func() {
				// The read is over; the context ends now, and its watcher
				// runs to completion before ReadMessageContext goes on.
				cancel()
				waitSignal(t, watched.pastDeadline, "the context watcher")
			})

			require.NoError(t, cc.WriteMessage(TextMessage, []byte("first")))
			mt, p, err := sc.ReadMessageContext(ctx)
			require.NoError(t, err)
			assert.Equal(t, TextMessage, mt)
			assert.Equal(t, "first", string(p))
			testHookReadContextRead = nil

			assert.True(t, watched.lastReadDeadline().Equal(appDeadline),
				"read deadline %v, want the application's %v", watched.lastReadDeadline(), appDeadline)
			assert.Nil(t, sc.readCause.Load(), "the ended context is no read cause")

			// Sent only now, so that the next read has to wait for it on
			// the network, under the restored deadline.
			require.NoError(t, cc.WriteMessage(BinaryMessage, []byte("second")))
			mt, p, err = sc.ReadMessage()
			require.NoError(t, err)
			assert.Equal(t, BinaryMessage, mt)
			assert.Equal(t, "second", string(p))

			require.NoError(t, cc.WriteMessage(TextMessage, []byte("third")))
			ctx2, cancel2 := context.WithTimeout(context.Background(), testIOTimeout)
			defer cancel2()
			_, p, err = sc.ReadMessageContext(ctx2)
			require.NoError(t, err)
			assert.Equal(t, "third", string(p))
		})
	}
}

// TestReadMessageContextEndsDuringRead: a context that ends while the read
// waits for the peer makes ReadMessageContext return ctx.Err(), and, as
// documented, the connection can no longer be read: later reads fail with
// the same cause even when a message arrives.
func TestReadMessageContextEndsDuringRead(t *testing.T) {
	cases := []struct {
		name    string
		makeCtx func() (context.Context, context.CancelFunc)
		end     func(cancel context.CancelFunc)
		want    error
	}{
		{
			name:    "canceled",
			makeCtx: func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) },
			end:     func(cancel context.CancelFunc) { cancel() },
			want:    context.Canceled,
		},
		{
			name: "deadline",
			makeCtx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 50*time.Millisecond)
			},
			end:  func(context.CancelFunc) {}, // the deadline passes on its own
			want: context.DeadlineExceeded,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sc, watched, cc := watchedPair(t)
			ctx, cancel := tc.makeCtx()
			defer cancel()
			errc := make(chan error, 1)
			go func() {
				_, _, err := sc.ReadMessageContext(ctx)
				errc <- err
			}()
			waitSignal(t, watched.reading, "the read to start")
			tc.end(cancel)

			var err error
			select {
			case err = <-errc:
			case <-time.After(testIOTimeout):
				t.Fatal("read not unblocked by the context's end")
			}
			assert.ErrorIs(t, err, tc.want)

			require.NoError(t, cc.WriteMessage(TextMessage, []byte("too late")))
			_, _, err = sc.ReadMessage()
			assert.ErrorIs(t, err, tc.want, "the connection stays broken")
			_, _, err = sc.ReadMessageContext(context.Background())
			assert.ErrorIs(t, err, tc.want)
		})
	}
}
