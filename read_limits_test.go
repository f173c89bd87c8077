package websocket

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsup/websocket/frame"
)

// stalledFrameStart returns a masked binary frame header announcing
// announce payload bytes, followed by the first sent of them (zero key:
// the masked bytes are the payload bytes).
func stalledFrameStart(t testing.TB, announce int64, sent int) []byte {
	t.Helper()
	b, err := frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: frame.OpBinary, Masked: true, Length: announce})
	require.NoError(t, err)
	return append(b, bytes.Repeat([]byte{'x'}, sent)...)
}

// goroutinesWaitingIn counts the goroutines blocked on network input with
// fn on their stack.
func goroutinesWaitingIn(fn string) int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "[IO wait") && strings.Contains(g, fn) {
			count++
		}
	}
	return count
}

// TestStalledMessageMemory: peers that send a frame header announcing a
// large message, a few payload bytes and then nothing cost the server
// memory in proportion to what they sent, not to what they announced.
func TestStalledMessageMemory(t *testing.T) {
	const (
		conns         = 200
		sent          = 100
		perConnBudget = 64 << 10
	)
	cases := []struct {
		name     string
		announce int64
	}{
		{"1 MiB announced", 1 << 20},
		{"32 MiB announced", DefaultReadLimit},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var up Upgrader
			var upgraded, handlers sync.WaitGroup
			serverConns := make(chan *Conn, conns)
			readErrs := make(chan error, conns)
			handlers.Add(conns)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				defer handlers.Done()
				c, err := up.Upgrade(w, r, nil)
				if err != nil {
					readErrs <- err
					return
				}
				defer c.Close()
				serverConns <- c
				upgraded.Done()
				_, _, err = c.ReadMessage()
				readErrs <- err
			}))
			defer srv.Close()
			require.True(t, strings.HasPrefix(srv.Listener.Addr().String(), "127.0.0.1:"))

			before := memSnapshot()
			clients := idleClients(t, srv, &upgraded, conns)
			cleanup := func() {
				for _, nc := range clients {
					_ = nc.Close()
				}
				clients = nil
			}
			defer cleanup()
			start := stalledFrameStart(t, tc.announce, sent)
			for _, nc := range clients {
				_, err := nc.Write(start)
				require.NoError(t, err)
			}
			var server []*Conn
			for range conns {
				server = append(server, <-serverConns)
			}
			// Every server goroutine has parsed the header and is back to
			// waiting for the rest of the payload inside ReadMessage.
			require.Eventually(t, func() bool {
				for _, c := range server {
					if c.dataFrames.Load() == 0 {
						return false
					}
				}
				return goroutinesWaitingIn("websocket.(*Conn).ReadMessage") >= conns
			}, 30*time.Second, 20*time.Millisecond, "server goroutines blocked in ReadMessage")

			after := memSnapshot()
			perConn := (int64(after.heap) - int64(before.heap)) / conns
			t.Logf("heap growth per stalled connection: %d bytes", perConn)
			assert.Less(t, perConn, int64(perConnBudget), "heap held per stalled connection")

			cleanup()
			waited := make(chan struct{})
			go func() {
				handlers.Wait()
				close(waited)
			}()
			select {
			case <-waited:
			case <-time.After(testIOTimeout):
				t.Fatal("server handlers did not return")
			}
			for range conns {
				assert.Error(t, <-readErrs, "the read ends with the connection")
			}
		})
	}
}
