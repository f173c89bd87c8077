package websocket

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/wsup/websocket/frame"
	"github.com/wsup/websocket/internal/deflate"
)

// benchJSON returns a compressible JSON document of about size bytes,
// deterministic for a given size.
func benchJSON(size int) []byte {
	rng := rand.New(rand.NewSource(int64(size)))
	names := []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"}
	p := []byte{'['}
	for i := 0; len(p) < size-100; i++ {
		if i > 0 {
			p = append(p, ',')
		}
		p = fmt.Appendf(p, `{"id":%d,"name":%q,"score":%d.%02d,"active":%t,"pad":"%d"}`,
			i, names[rng.Intn(len(names))], rng.Intn(1000), rng.Intn(100), rng.Intn(2) == 1, rng.Int63())
	}
	return append(p, ']')
}

// noTakeover is permessage-deflate without context takeover either way, as
// the benchmark module's load generator negotiates it.
func noTakeover() *compressParams {
	return &compressParams{
		params: deflate.Params{
			ServerNoContextTakeover: true, ClientNoContextTakeover: true,
			ServerMaxWindowBits: 15, ClientMaxWindowBits: 15,
		},
		level:     defaultCompressionLevel,
		threshold: defaultCompressionThreshold,
	}
}

// BenchmarkCompressed measures the Conn side of permessage-deflate on a
// 16 KiB JSON message without context takeover: ReadMessage of a
// compressed client frame, and WriteMessage compressing the reply.
func BenchmarkCompressed(b *testing.B) {
	msg := benchJSON(16 << 10)
	one := rawFrame{fin: true, rsv: 0x40, op: frame.OpText, payload: deflateRaw(b, msg)}.encode()
	data := one
	for len(data) < 64<<10 {
		data = append(data, one...)
	}
	b.Run("ReadMessage", func(b *testing.B) {
		c := newConn(&loopConn{data: data}, connConfig{isServer: true, compress: noTakeover()})
		b.SetBytes(int64(len(msg)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			_, p, err := c.ReadMessage()
			if err != nil || len(p) != len(msg) {
				b.Fatal(err, len(p))
			}
		}
	})
	b.Run("WriteMessage", func(b *testing.B) {
		c := newConn(&loopConn{data: []byte{0}}, connConfig{isServer: true, compress: noTakeover()})
		b.SetBytes(int64(len(msg)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if err := c.WriteMessage(TextMessage, msg); err != nil {
				b.Fatal(err)
			}
		}
	})
}
