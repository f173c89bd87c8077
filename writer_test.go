package websocket

import (
	"bytes"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeCountConn counts the Write calls that reach the network connection
// (one per frame or batch of frames, for a server Conn).
type writeCountConn struct {
	net.Conn
	writes atomic.Int64
}

func (c *writeCountConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// relayPool is a BufferPool for the relay tests.
type relayPool struct{ sync.Pool }

// TestReadFromRelay: io.Copy from a message reader into a message writer
// (ReadFrom) relays the message intact, in one frame when it is a single
// long frame of at most 1 MiB and the buffers are the Conn's own.
func TestReadFromRelay(t *testing.T) {
	cases := []struct {
		name       string
		size       int
		fragments  int // the client sends the message in this many frames
		pool       bool
		compress   bool
		source     string // "message" (a message reader) or "bytes"
		wantFrames int    // data frames the server writes; 0: not checked
	}{
		{"small", 100, 1, false, false, "message", 1},
		{"empty", 0, 1, false, false, "message", 1},
		{"long frame relayed whole", 300 << 10, 1, false, false, "message", 1},
		{"1 MiB frame relayed whole", 1 << 20, 1, false, false, "message", 1},
		{"longer than the relay buffer", 2<<20 + 5000, 1, false, false, "message", 2},
		{"fragmented source", 100 << 10, 4, false, false, "message", 0},
		{"user buffer pool: write-buffer fragments", 20 << 10, 1, true, false, "message", 0},
		{"plain reader", 50 << 10, 1, false, false, "bytes", 0},
		{"compressed", 64 << 10, 1, false, true, "message", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, c := tcpPair(t)
			counted := &writeCountConn{Conn: s}
			cfg := connConfig{isServer: true}
			ccfg := connConfig{}
			if tc.pool {
				cfg.writeBufferPool = &relayPool{}
			}
			if tc.compress {
				cfg.compress, ccfg.compress = noTakeover(), noTakeover()
			}
			sc := newConn(counted, cfg)
			cc := newConn(c, ccfg)
			msg := bytes.Repeat([]byte("relay me, "), tc.size/10+1)[:tc.size]

			go func() {
				if tc.fragments == 1 {
					_ = cc.WriteMessage(BinaryMessage, msg) // one frame
					return
				}
				w, err := cc.NextWriter(BinaryMessage)
				if err != nil {
					return
				}
				step := max(1, (tc.size+tc.fragments-1)/tc.fragments)
				for off := 0; off < tc.size; off += step {
					_, _ = w.Write(msg[off:min(off+step, tc.size)])
					_ = w.(*messageWriter).flush(false, nil)
				}
				_ = w.Close()
			}()
			mt, r, err := sc.NextReader()
			require.NoError(t, err)
			before := counted.writes.Load()
			w, err := sc.NextWriter(mt)
			require.NoError(t, err)
			src := r
			if tc.source == "bytes" {
				body, err := io.ReadAll(r)
				require.NoError(t, err)
				src = bytes.NewReader(body)
			}
			n, err := io.Copy(w, src)
			require.NoError(t, err)
			assert.Equal(t, int64(tc.size), n)
			require.NoError(t, w.Close())
			if tc.wantFrames > 0 {
				assert.Equal(t, int64(tc.wantFrames), counted.writes.Load()-before, "frames written")
			}
			gotType, got, err := cc.ReadMessage()
			require.NoError(t, err)
			assert.Equal(t, BinaryMessage, gotType)
			assert.Equal(t, msg, got)
		})
	}
}
