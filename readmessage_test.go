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

	"github.com/wsup/websocket/internal/deflate"

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

// TestReadLimitAllocation: ReadMessage never allocates much past the read
// limit, whether the message is refused at the limit (ErrReadLimit, close
// 1009) or is exactly as long as the limit, compressed or not, fragmented
// or not. TotalAlloc is measured around the ReadMessage call with cold
// buffer pools, so pooled scratch space counts when it is first allocated.
func TestReadLimitAllocation(t *testing.T) {
	const small = 4 << 20
	slack := int64(64 << 10)
	if raceEnabled {
		// sync.Pool drops items at random under the race detector: the
		// inflater (about 50 KiB with klauspost/compress, its 32 KiB
		// history included) and the 4 KiB read buffer may be allocated
		// anew for the measured message. The tight bound is checked
		// without -race by scripts/test.sh's allocation guards.
		slack += 96 << 10
	}
	quarters := func(limit int) []int { return []int{limit / 4, limit / 4, limit / 4, limit / 4} }
	cases := []readLimitCase{
		{name: "uncompressed, fragments reach the limit, one byte more", limit: small,
			fragments: append(quarters(small), 1), size: small + 1, refused: true},
		{name: "uncompressed, one fragment at the limit, one byte more", limit: small,
			fragments: []int{small, 1}, size: small + 1, refused: true},
		{name: "uncompressed, single frame over the limit", limit: small, size: small + 1, refused: true},
		{name: "deflate bomb", limit: small, compress: true, zeros: true, size: 4 * small, refused: true},
		{name: "deflate bomb, fragmented", limit: small, compress: true, zeros: true,
			fragments: make([]int, 8), size: 4 * small, refused: true},
		{name: "compressed, one byte over the limit", limit: small, compress: true, size: small + 1, refused: true},
		{name: "uncompressed, fragments reach the default limit, one byte more",
			fragments: append(quarters(DefaultReadLimit), 1), size: DefaultReadLimit + 1, refused: true},
		{name: "deflate bomb at the default limit", compress: true, zeros: true, size: 2 * DefaultReadLimit, refused: true},

		{name: "uncompressed, fragments exactly at the limit", limit: small, fragments: quarters(small), size: small},
		{name: "uncompressed, exactly the limit then an empty final fragment", limit: small,
			fragments: []int{small / 2, small / 2, 0}, size: small},
		{name: "uncompressed, single frame exactly at the limit", limit: small, size: small},
		{name: "compressed, exactly at the limit", limit: small, compress: true, size: small},
		{name: "compressed, exactly at the limit, fragmented", limit: small, compress: true,
			fragments: make([]int, 5), size: small},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			limit := tc.limit
			if limit == 0 {
				limit = DefaultReadLimit
			}
			wire, msg, wantType := tc.wire(t)
			s, c := tcpPair(t)
			cfg := connConfig{isServer: true}
			if tc.compress {
				// Context takeover: the server keeps a window too.
				cfg.compress = &compressParams{params: deflate.Params{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15},
					level: defaultCompressionLevel, threshold: 1 << 30}
			}
			sc := newConn(s, cfg)
			if tc.limit > 0 {
				sc.SetReadLimit(tc.limit)
			}
			rc := newRawClient(t, c)

			// Empty the buffer pools, then read one small message so that
			// what every message needs (read buffer, decompressor) exists.
			// sync.Pool keeps items per P: with one P, the measured read
			// finds the warm-up's decompressor state wherever its goroutine
			// resumes.
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
			runtime.GC()
			runtime.GC()
			warm := rawFrame{fin: true, op: frame.OpText, payload: []byte("warm-up")}
			if tc.compress {
				warm.rsv, warm.payload = 0x40, deflateRaw(t, []byte("warm-up"))
			}
			rc.send(warm)
			_, got, err := sc.ReadMessage()
			require.NoError(t, err)
			require.Equal(t, "warm-up", string(got))

			sent := make(chan error, 1)
			go func() {
				_ = c.SetWriteDeadline(time.Now().Add(testIOTimeout))
				_, err := c.Write(wire)
				sent <- err
			}()
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			mt, got, err := sc.ReadMessage()
			runtime.ReadMemStats(&m1)
			allocated := int64(m1.TotalAlloc - m0.TotalAlloc)
			t.Logf("allocated %d bytes (limit %d): limit%+d", allocated, limit, allocated-limit)

			if tc.refused {
				require.ErrorIs(t, err, ErrReadLimit)
				assert.LessOrEqual(t, allocated, limit+slack, "allocated reading a message refused at the limit")
				code, before := rc.expectClose()
				assert.Equal(t, CloseMessageTooBig, code)
				assert.Empty(t, before)
				_, _, err = sc.ReadMessage()
				assert.ErrorIs(t, err, ErrReadLimit, "the read error is sticky")
			} else {
				require.NoError(t, err)
				assert.Equal(t, wantType, mt)
				assert.True(t, bytes.Equal(msg, got), "message of exactly the limit (%d bytes, got %d)", len(msg), len(got))
				// The pooled space it was collected in, and its copy.
				assert.LessOrEqual(t, allocated, 2*limit+slack, "allocated reading a message of exactly the limit")
			}
			_ = c.Close()
			select {
			case err := <-sent:
				if !tc.refused {
					assert.NoError(t, err)
				}
			case <-time.After(testIOTimeout):
				t.Fatal("the client's write did not end")
			}
			_ = sc.Close()
		})
	}
}

// stalledFrameStart returns a masked binary frame header announcing
// announce payload bytes, followed by the first sent of them (zero key:
// the masked bytes are the payload bytes).
func stalledFrameStart(t testing.TB, announce int64, sent int) []byte {
	t.Helper()
	b, err := frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: frame.OpBinary, Masked: true, Length: announce})
	require.NoError(t, err)
	return append(b, bytes.Repeat([]byte{'x'}, sent)...)
}

// readLimitCase is a message sent by a raw client and the read limit it
// meets.
type readLimitCase struct {
	name      string
	limit     int64 // 0: DefaultReadLimit
	compress  bool
	fragments []int // payload sizes on the wire; nil: one frame
	size      int   // message size (inflated)
	zeros     bool  // a run of zeros (a deflate bomb) rather than data
	refused   bool
}

// wire builds the message's frames, masked, and returns them with the
// message and its type.
func (tc readLimitCase) wire(t testing.TB) (wire, msg []byte, messageType int) {
	t.Helper()
	switch {
	case tc.zeros:
		msg = make([]byte, tc.size)
	case tc.compress:
		msg = jsonLike(tc.size)
	default:
		msg = pattern(tc.size)
	}
	payload, op := msg, frame.OpBinary
	var rsv byte
	if tc.compress {
		// Text, checked as UTF-8 as it is inflated.
		payload, rsv, op = deflateRaw(t, msg), 0x40, frame.OpText
	}
	sizes := tc.fragments
	if sizes == nil {
		sizes = []int{len(payload)}
	}
	if tc.compress {
		// The compressed length is known only now: split it evenly, the
		// remainder going to the last fragment.
		n := len(sizes)
		sizes = make([]int, n)
		for i := range sizes {
			sizes[i] = len(payload) / n
		}
		sizes[n-1] += len(payload) % n
	}
	off := 0
	for i, n := range sizes {
		f := rawFrame{fin: i == len(sizes)-1, op: frame.OpContinuation, payload: payload[off : off+n]}
		if i == 0 {
			f.op, f.rsv = op, rsv
		}
		wire = append(wire, f.encode()...)
		off += n
	}
	require.Equal(t, len(payload), off, "fragment sizes add up to the payload")
	return wire, msg, int(op)
}
