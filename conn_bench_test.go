package websocket

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/wsup/websocket/frame"
)

// loopConn replays the same bytes forever on Read and discards writes.
type loopConn struct {
	net.Conn
	data []byte
	pos  int
}

func (c *loopConn) Read(p []byte) (int, error) {
	n := copy(p, c.data[c.pos:])
	c.pos = (c.pos + n) % len(c.data)
	return n, nil
}
func (c *loopConn) Write(p []byte) (int, error)       { return len(p), nil }
func (c *loopConn) SetWriteDeadline(time.Time) error  { return nil }
func (c *loopConn) SetReadDeadline(t time.Time) error { return nil }
func (c *loopConn) Close() error                      { return nil }

var benchSizes = []struct {
	name string
	n    int
}{{"32B", 32}, {"1KiB", 1 << 10}, {"64KiB", 64 << 10}, {"1MiB", 1 << 20}}

// BenchmarkReadMessage reads masked client messages from memory: the cost
// of the read path without the network. NextReader reads into a reused
// buffer and must not allocate in steady state.
func BenchmarkReadMessage(b *testing.B) {
	for _, s := range benchSizes {
		// Enough whole frames to fill a loop buffer.
		one := rawFrame{fin: true, op: frame.OpBinary, payload: pattern(s.n)}.encode()
		data := one
		for len(data) < 64<<10 {
			data = append(data, one...)
		}
		b.Run("ReadMessage/"+s.name, func(b *testing.B) {
			c := newConn(&loopConn{data: data}, connConfig{isServer: true})
			b.SetBytes(int64(s.n))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, _, err := c.ReadMessage(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("NextReader/"+s.name, func(b *testing.B) {
			c := newConn(&loopConn{data: data}, connConfig{isServer: true})
			buf := make([]byte, s.n)
			b.SetBytes(int64(s.n))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				_, r, err := c.NextReader()
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(r, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWriteMessage writes server messages to a discarding conn; it
// must not allocate.
func BenchmarkWriteMessage(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(s.name, func(b *testing.B) {
			c := newConn(&loopConn{data: []byte{0}}, connConfig{isServer: true})
			msg := pattern(s.n)
			b.SetBytes(int64(s.n))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if err := c.WriteMessage(BinaryMessage, msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestSteadyStateAllocs guards the zero-allocation paths.
func TestSteadyStateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts need a build without -race (sync.Pool drops items under the race detector); scripts/test.sh runs them so")
	}
	one := rawFrame{fin: true, op: frame.OpText, payload: []byte("hello, steady state")}.encode()
	data := one
	for len(data) < 4096 {
		data = append(data, one...)
	}
	c := newConn(&loopConn{data: data}, connConfig{isServer: true})
	msg := []byte("a reply")
	buf := make([]byte, 64)
	allocs := testing.AllocsPerRun(1000, func() {
		if err := c.WriteMessage(TextMessage, msg); err != nil {
			t.Fatal(err)
		}
		if err := c.WriteControl(PongMessage, msg, time.Time{}); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("WriteMessage+WriteControl: %v allocs, want 0", allocs)
	}
	allocs = testing.AllocsPerRun(1000, func() {
		c.readMu.Lock()
		_, err := c.nextMessageLocked()
		if err == nil {
			_, err = c.readLocked(buf)
		}
		c.readMu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("reading a message into a buffer: %v allocs, want 0", allocs)
	}
	allocs = testing.AllocsPerRun(1000, func() {
		if _, _, err := c.ReadMessage(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 {
		t.Errorf("ReadMessage: %v allocs, want 1 (the returned slice)", allocs)
	}
}
