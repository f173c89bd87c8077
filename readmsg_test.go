package websocket

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsup/websocket/frame"
)

// TestReadMessageSizes: ReadMessage returns every message whole whatever
// its size and framing, in a slice of its own (not one that a later read
// reuses).
func TestReadMessageSizes(t *testing.T) {
	cases := []struct {
		name      string
		size      int
		fragments int
		compress  bool
	}{
		{"empty single frame", 0, 1, false},
		{"empty fragmented", 0, 3, false},
		{"one byte", 1, 1, false},
		{"fragmented below scratch size", 4095, 2, false},
		{"fragmented at scratch size", 4096, 4, false},
		{"fragmented above scratch size", 4097, 3, false},
		{"fragmented, many doublings", 100000, 7, false},
		{"single frame over the scratch size", scratchStartSize + 10, 1, false},
		{"single frame of 1 MiB and more", 1<<20 + 10, 1, false},
		{"compressed small", 600, 1, true},
		{"compressed, many doublings", 70000, 1, true},
		{"compressed fragmented", 9000, 3, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg := bytes.Repeat([]byte("0123456789abcdef"), tc.size/16+1)[:tc.size]
			s, c := tcpPair(t)
			cfg := connConfig{isServer: true}
			if tc.compress {
				cfg.compress = noTakeover()
			}
			sc := newConn(s, cfg)
			payload := msg
			var rsv byte
			if tc.compress {
				payload, rsv = deflateRaw(t, msg), 0x40
			}
			var frames []rawFrame
			step := max(1, (len(payload)+tc.fragments-1)/tc.fragments)
			for i := 0; i < tc.fragments; i++ {
				lo, hi := min(i*step, len(payload)), min((i+1)*step, len(payload))
				f := rawFrame{fin: i == tc.fragments-1, op: frame.OpContinuation, payload: payload[lo:hi]}
				if i == 0 {
					f.op, f.rsv = frame.OpBinary, rsv
				}
				frames = append(frames, f)
			}
			var wire []byte
			for _, f := range append(frames, rawFrame{fin: true, op: frame.OpBinary, payload: []byte("next")}) {
				wire = append(wire, f.encode()...)
			}
			sent := make(chan error, 1)
			go func() {
				_, err := c.Write(wire)
				sent <- err
			}()
			mt, got, err := sc.ReadMessage()
			require.NoError(t, err)
			assert.Equal(t, BinaryMessage, mt)
			require.NotNil(t, got, "an empty message is an empty slice, not nil")
			assert.Equal(t, msg, got)
			_, next, err := sc.ReadMessage()
			require.NoError(t, err)
			assert.Equal(t, "next", string(next))
			assert.Equal(t, msg, got, "the first message is untouched by the next read")
			require.NoError(t, <-sent)
		})
	}
}
