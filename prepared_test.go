package websocket

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsup/websocket/internal/deflate"
)

// TestPreparedMessage: a prepared message reaches plain, compressed
// (with and without context takeover) and client connections intact.
func TestPreparedMessage(t *testing.T) {
	msg := jsonLike(4000)
	pm, err := NewPreparedMessage(TextMessage, msg)
	require.NoError(t, err)
	_, err = NewPreparedMessage(7, nil)
	assert.ErrorIs(t, err, ErrBadMessageType)
	_, err = NewPreparedMessage(PingMessage, make([]byte, 126))
	assert.ErrorIs(t, err, ErrControlTooLong)

	pairs := map[string]func() (*Conn, *Conn){
		"plain": func() (*Conn, *Conn) { return connPair(t) },
		"deflate no takeover": func() (*Conn, *Conn) {
			return compressedPair(t, deflate.Params{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15, ServerNoContextTakeover: true}, 0)
		},
		"deflate window 10": func() (*Conn, *Conn) {
			return compressedPair(t, deflate.Params{ServerMaxWindowBits: 10, ClientMaxWindowBits: 15}, 0)
		},
		"deflate takeover": func() (*Conn, *Conn) {
			return compressedPair(t, deflate.Params{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}, 0)
		},
	}
	for name, mk := range pairs {
		t.Run(name, func(t *testing.T) {
			sc, cc := mk()
			for i := 0; i < 3; i++ {
				require.NoError(t, sc.WritePreparedMessage(pm))
				require.NoError(t, sc.WriteMessage(TextMessage, msg))
			}
			for i := 0; i < 6; i++ {
				mt, got, err := cc.ReadMessage()
				require.NoError(t, err)
				assert.Equal(t, TextMessage, mt)
				assert.True(t, bytes.Equal(msg, got))
			}
			// And from the client side, which masks its own copy.
			require.NoError(t, cc.WritePreparedMessage(pm))
			_, got, err := sc.ReadMessage()
			require.NoError(t, err)
			assert.True(t, bytes.Equal(msg, got))
		})
	}
	// The data was copied: changing the caller's slice changes nothing.
	msg[0] = 'X'
	sc, cc := connPair(t)
	require.NoError(t, sc.WritePreparedMessage(pm))
	_, got, err := cc.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, byte('{'), got[0])
}

// TestPreparedMessageSharedWithTakeover: connections that compress with
// context takeover send the one shared compressed frame, and their next
// messages, which may refer to it, still decode on the peer.
func TestPreparedMessageSharedWithTakeover(t *testing.T) {
	msg := jsonLike(4000)
	pm, err := NewPreparedMessage(TextMessage, msg)
	require.NoError(t, err)
	p := deflate.Params{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}
	for range 3 {
		sc, cc := compressedPair(t, p, 0)
		require.NoError(t, sc.WriteMessage(TextMessage, jsonLike(3000)))
		require.NoError(t, sc.WritePreparedMessage(pm))
		// Refers back to the prepared message in the shared history.
		require.NoError(t, sc.WriteMessage(TextMessage, msg))
		for _, want := range [][]byte{jsonLike(3000), msg, msg} {
			_, got, err := cc.ReadMessage()
			require.NoError(t, err)
			require.True(t, bytes.Equal(want, got))
		}
	}
	pm.mu.Lock()
	defer pm.mu.Unlock()
	assert.Len(t, pm.frames, 1, "one compressed frame for every connection")
}

// discardConn is a net.Conn that accepts and drops every write.
type discardConn struct{ net.Conn }

func (discardConn) Write(p []byte) (int, error)       { return len(p), nil }
func (discardConn) SetWriteDeadline(time.Time) error  { return nil }
func (discardConn) Close() error                      { return nil }
func (discardConn) Read(p []byte) (int, error)        { select {} }
func (discardConn) SetReadDeadline(t time.Time) error { return nil }

// BenchmarkBroadcast sends one 16 KiB JSON message to 1,000 compressed
// connections (no context takeover), with WriteMessage and with a
// PreparedMessage.
func BenchmarkBroadcast(b *testing.B) {
	msg := jsonLike(16 << 10)
	conns := make([]*Conn, 1000)
	for i := range conns {
		conns[i] = newConn(discardConn{}, connConfig{isServer: true, compress: &compressParams{
			params: deflate.Params{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15, ServerNoContextTakeover: true},
			level:  defaultCompressionLevel, threshold: defaultCompressionThreshold}})
	}
	b.Run("WriteMessage", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			for _, c := range conns {
				if err := c.WriteMessage(TextMessage, msg); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("PreparedMessage", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			pm, err := NewPreparedMessage(TextMessage, msg)
			if err != nil {
				b.Fatal(err)
			}
			for _, c := range conns {
				if err := c.WritePreparedMessage(pm); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
