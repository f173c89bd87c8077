package websocket

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsup/websocket/frame"

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

// TestNextWriterFragments checks that a long NextWriter message goes out as
// several frames: the first with the message opcode, continuations after,
// FIN only on the last.
func TestNextWriterFragments(t *testing.T) {
	s, c := tcpPair(t)
	sc := newConn(s, connConfig{isServer: true, writeBufferSize: 16})
	rc := newRawClient(t, c)
	w, err := sc.NextWriter(TextMessage)
	require.NoError(t, err)
	for i := 0; i < 5; i++ {
		_, err := w.Write([]byte("0123456789"))
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	var got []byte
	for i := 0; ; i++ {
		f, err := rc.read()
		require.NoError(t, err)
		if i == 0 {
			assert.Equal(t, frame.OpText, f.h.Opcode)
		} else {
			assert.Equal(t, frame.OpContinuation, f.h.Opcode)
		}
		got = append(got, f.payload...)
		if f.h.Fin {
			break
		}
		require.Less(t, i, 10)
	}
	assert.Equal(t, bytes.Repeat([]byte("0123456789"), 5), got)
	_, err = w.Write([]byte("x"))
	assert.Error(t, err, "write after Close")
	assert.Error(t, w.Close(), "second Close")
}

// TestConcurrentWriters has 50 goroutines write to one Conn; every message
// must arrive whole, and per writer in order.
func TestConcurrentWriters(t *testing.T) {
	sc, cc := connPair(t)
	const writers, perWriter = 50, 40
	var wg sync.WaitGroup
	for g := 0; g < writers; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				msg := make([]byte, 8+(g*31+i*17)%5000)
				binary.BigEndian.PutUint32(msg, uint32(g))
				binary.BigEndian.PutUint32(msg[4:], uint32(i))
				for j := 8; j < len(msg); j++ {
					msg[j] = byte(g + i + j)
				}
				var err error
				switch i % 3 {
				case 0:
					err = sc.WriteMessage(BinaryMessage, msg)
				case 1:
					var w io.WriteCloser
					if w, err = sc.NextWriter(BinaryMessage); err == nil {
						_, _ = w.Write(msg[:len(msg)/2])
						_, _ = w.Write(msg[len(msg)/2:])
						err = w.Close()
					}
				default:
					err = sc.WriteControl(PingMessage, []byte("p"), time.Now().Add(5*time.Second))
					if err == nil {
						err = sc.WriteMessage(BinaryMessage, msg)
					}
				}
				if err != nil {
					t.Errorf("writer %d: %v", g, err)
					return
				}
			}
		}(g)
	}
	next := make([]int, writers)
	pings := 0
	cc.SetPingHandler(func(string) error { pings++; return nil })
	for n := 0; n < writers*perWriter; n++ {
		require.NoError(t, cc.SetReadDeadline(time.Now().Add(10*time.Second)))
		_, msg, err := cc.ReadMessage()
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(msg), 8)
		g, i := int(binary.BigEndian.Uint32(msg)), int(binary.BigEndian.Uint32(msg[4:]))
		require.Less(t, g, writers)
		assert.Equal(t, next[g], i, "writer %d out of order", g)
		next[g] = i + 1
		for j := 8; j < len(msg); j++ {
			if msg[j] != byte(g+i+j) {
				t.Fatalf("writer %d message %d corrupt at %d", g, i, j)
			}
		}
	}
	wg.Wait()
	assert.Equal(t, writers*((perWriter+1)/3), pings)
}
