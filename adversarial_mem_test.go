package websocket

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsup/websocket/frame"
)

// The memory-measuring adversarial tests. They read process-wide heap
// figures, so none of them runs in parallel with another test. Heap figures
// (memSnapshot, after two garbage collections) stay meaningful under the
// race detector, whose shadow memory is not Go heap; sync.Pool drops items
// at random there, which adds allocations the bounds below allow for.

// totalAlloc returns the bytes allocated so far by the process.
func totalAlloc() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

// heapGrowth returns after-before as a signed figure.
func heapGrowth(before, after memFigures) int64 { return int64(after.heap) - int64(before.heap) }

// settleHeap takes heap snapshots until two in a row are within tol of each
// other, bounded by d, and returns the last.
func settleHeap(d time.Duration, tol int64) memFigures {
	prev := memSnapshot()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		cur := memSnapshot()
		if g := heapGrowth(prev, cur); g < tol && g > -tol {
			return cur
		}
		prev = cur
	}
	return prev
}

// TestAdversarialStalledHeaders opens 200 connections that each announce a
// big binary message, send a few payload bytes and go quiet. The server
// must not allocate for the announced size before the payload arrives:
// its heap may grow by less than 64 KiB per connection, the clients' own
// buffers included.
func TestAdversarialStalledHeaders(t *testing.T) {
	const conns = 200
	const perConn = 64 << 10
	for _, size := range []int64{32 << 20, 1 << 20} {
		t.Run(byteSize(size), func(t *testing.T) {
			s := startAdvServer(t, &Upgrader{}, echoUntilErr)
			key := [4]byte{1, 2, 3, 4}
			msg := append(maskedHeader(true, 0, frame.OpBinary, size, key), maskedZeros(key, 8)...)
			before := memSnapshot()
			for i := 0; i < conns; i++ {
				rc, _ := dialWS(t, s.addr, "")
				rc.sendBytes(msg)
			}
			var served []*Conn
			for len(served) < conns {
				select {
				case c := <-s.started:
					served = append(served, c)
				case <-time.After(testIOTimeout):
					t.Fatalf("%d of %d connections reached serve", len(served), conns)
				}
			}
			// Each serve call has read its frame's header once framesRead
			// counts it; then the heap settles as the reads block.
			require.True(t, pollUntil(testIOTimeout, func() bool {
				for _, c := range served {
					if c.framesRead.Load() == 0 {
						return false
					}
				}
				return true
			}), "every server connection reads its frame header")
			after := settleHeap(3*time.Second, perConn)
			growth := heapGrowth(before, after)
			t.Logf("%d connections announcing %s: heap +%d B (%d B per connection)", conns, byteSize(size), growth, growth/conns)
			assert.Less(t, growth, int64(conns*perConn), "heap growth per stalled connection must stay under 64 KiB")
		})
	}
}

func byteSize(n int64) string { return fmt.Sprintf("%dMiB", n>>20) }

// deflateBomb returns a permessage-deflate payload (RFC 7692: the final
// 0x00 0x00 0xff 0xff of a sync flush removed) inflating to size bytes of
// zeros, size a multiple of 1 MiB. A sync-flushed deflate of 1 MiB of
// zeros, compressed after 1 MiB of zeros, decodes to 1 MiB of zeros after
// any zero history, so it is repeated instead of compressing size bytes.
func deflateBomb(t *testing.T, size int) []byte {
	t.Helper()
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.BestSpeed)
	require.NoError(t, err)
	zeros := make([]byte, 1<<20)
	_, _ = fw.Write(zeros)
	require.NoError(t, fw.Flush())
	first := buf.Len()
	_, _ = fw.Write(zeros)
	require.NoError(t, fw.Flush())
	block := buf.Bytes()[first:]
	out := append([]byte(nil), buf.Bytes()[:first]...)
	for i := 1; i < size>>20; i++ {
		out = append(out, block...)
	}
	require.True(t, bytes.HasSuffix(out, []byte{0, 0, 0xff, 0xff}))
	return out[:len(out)-4]
}

// readSlack is what the server may allocate besides the message buffer
// while it reads and refuses a bomb: the inflater (compress/flate's window
// and tables, about 45 KiB), the read buffer (4 KiB), the close frame, the
// error values, and sync.Pool refills (at random under the race detector).
// Measured with go1.26 on linux/amd64, with and without -race: a whole
// handshake, one small echoed message and the close cost the process
// 38-44 KiB, and refusing a frame whose header is over the limit
// 67-81 KiB (client writer goroutine included). 1 MiB leaves ample room
// for those, the inflater and the runtime's own allocations meanwhile.
const readSlack = 1 << 20

// streamZeros writes frames of masked zeros of the given sizes, the last
// one final, the first with opcode binary, in 64 KiB writes.
func streamZeros(nc net.Conn, sizes ...int64) error {
	const chunk = 64 << 10
	key := [4]byte{0x11, 0x22, 0x33, 0x44}
	zeros := maskedZeros(key, chunk)
	op := frame.OpBinary
	for i, size := range sizes {
		if _, err := nc.Write(maskedHeader(i == len(sizes)-1, 0, op, size, key)); err != nil {
			return err
		}
		op = frame.OpContinuation
		for left := size; left > 0; {
			// Each write starts at key position 0: chunk is a multiple
			// of 4 and only the last write is short.
			n := min(left, chunk)
			if _, err := nc.Write(zeros[:n]); err != nil {
				return err
			}
			left -= n
		}
	}
	return nil
}

// TestAdversarialBombs sends messages past DefaultReadLimit: a 1 GiB
// deflate bomb to a server with compression enabled, and to a default
// server an uncompressed message one byte over the limit, as one frame and
// as fragments (streamed by a writer goroutine whose errors after the
// server's close are expected). The server must answer 1009 and close the
// connection, having allocated no more than the limit, 64 KiB and
// readSlack in all, and keep nothing of it once the connection is gone.
func TestAdversarialBombs(t *testing.T) {
	bomb := rawFrame{fin: true, rsv: 0x40, op: frame.OpBinary, payload: deflateBomb(t, 1<<30)}.encode()
	t.Logf("1 GiB deflate bomb: %d bytes on the wire", len(bomb))
	const limit = DefaultReadLimit
	cases := []struct {
		name     string
		upgrader Upgrader
		extra    string
		send     func(net.Conn) error
	}{
		{name: "deflate 1 GiB", upgrader: Upgrader{EnableCompression: true}, extra: "Sec-WebSocket-Extensions: permessage-deflate\r\n",
			send: func(nc net.Conn) error { _, err := nc.Write(bomb); return err }},
		{name: "one frame", send: func(nc net.Conn) error { return streamZeros(nc, limit+1) }},
		{name: "fragments", send: func(nc net.Conn) error { return streamZeros(nc, 8<<20, 8<<20, 8<<20, 8<<20, 1) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := startAdvServer(t, &tc.upgrader, echoUntilErr)
			rc, resp := dialWS(t, s.addr, tc.extra)
			if tc.extra != "" {
				require.Contains(t, resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate")
			}
			before := memSnapshot()
			alloc0 := totalAlloc()
			start := time.Now()
			sent := make(chan error, 1)
			go func() { sent <- tc.send(rc.nc) }()
			// Reading 32 MiB takes the server several seconds under the
			// race detector, longer than rawClient.read waits: wait for
			// serve first; its read fails after the close frame went out.
			err, ok := s.nextEnded(t, 30*time.Second)
			require.True(t, ok, "serve did not return")
			assert.ErrorIs(t, err, ErrReadLimit)
			allocated := totalAlloc() - alloc0
			code, echoed := rc.expectClose()
			assert.Equal(t, CloseMessageTooBig, code)
			assert.Empty(t, echoed)
			rc.expectTCPClosed(1 << 10)
			elapsed := time.Since(start)
			rc.nc.Close()
			select {
			case err := <-sent:
				t.Logf("client writer ended with %v", err)
			case <-time.After(testIOTimeout):
				t.Fatal("client writer still blocked after the close")
			}
			after := memSnapshot()
			t.Logf("refused in %v; allocated %d B (%.1f MiB); heap %+d B", elapsed, allocated, float64(allocated)/(1<<20), heapGrowth(before, after))
			assert.LessOrEqual(t, allocated, uint64(limit+64<<10+readSlack), "allocation while reading a message past the limit")
			assert.Less(t, heapGrowth(before, after), int64(readSlack), "heap after the message is back near the start")
		})
	}
}

// TestAdversarialPingFlood floods the server with pings and never reads
// its pongs. Once the pongs back up, a pong write that fails or times out
// must fail the connection: the server closes TCP (seen by the client's
// writes failing), serve's read returns an error, and the heap stays
// bounded throughout.
func TestAdversarialPingFlood(t *testing.T) {
	const (
		floodFor  = 20 * time.Second // bound on the flood
		closeWait = 15 * time.Second // pong deadline (1 s) plus a wide margin
	)
	s := startAdvServer(t, &Upgrader{}, echoUntilErr)
	rc, _ := dialWS(t, s.addr, "")
	var batch []byte
	for range 500 {
		batch = append(batch, rawFrame{fin: true, op: frame.OpPing, payload: bytes.Repeat([]byte{'p'}, 125)}.encode()...)
	}
	before := memSnapshot()
	start := time.Now()
	type result struct {
		err     error
		at      time.Duration
		batches int
	}
	flooded := make(chan result, 1)
	go func() {
		var r result
		for time.Since(start) < floodFor {
			if _, r.err = rc.nc.Write(batch); r.err != nil {
				break
			}
			r.batches++
		}
		r.at = time.Since(start)
		flooded <- r
	}()
	var r result
	select {
	case r = <-flooded:
	case <-time.After(floodFor + closeWait):
		// The server stopped reading without closing: the client's
		// writes block. Closing the client ends the writer.
		rc.nc.Close()
		r = <-flooded
		t.Errorf("client writes blocked: the server stopped reading without closing (%d pings sent)", r.batches*500)
	}
	after := memSnapshot()
	t.Logf("flood ended after %v, %d pings, write error %v; heap %+d B", r.at, r.batches*500, r.err, heapGrowth(before, after))
	assert.Less(t, heapGrowth(before, after), int64(1<<20), "heap growth during the flood")
	if assert.Error(t, r.err, "the server never closed the connection in %v", floodFor) {
		assert.True(t, isConnClosedErr(r.err), "client write error %v", r.err)
		assert.Less(t, r.at, closeWait, "the server should close soon after the pongs back up")
	}
	wait := 5 * time.Second
	if r.err == nil {
		wait = 0 // the connection is still open: serve is still reading
	}
	err, ok := s.nextEnded(t, wait)
	if assert.True(t, ok, "serve's ReadMessage should return once the pong write failed") {
		assert.Error(t, err)
		t.Logf("serve returned %v", err)
	}
}

// TestAdversarialSlowReader: a client that handshakes and never reads,
// against a serve function writing 1 KiB messages in a loop. A write that
// makes no progress for defaultWriteStallTimeout must fail with a timeout
// net.Error, and the server must close the connection; a client reading
// slowly but steadily must not be cut off.
func TestAdversarialSlowReader(t *testing.T) {
	setDuration(t, defaultWriteStallTimeout, time.Second)
	msg := bytes.Repeat([]byte{'w'}, 1<<10)

	t.Run("stalled", func(t *testing.T) {
		var written int
		s := startAdvServer(t, &Upgrader{}, func(c *Conn) error {
			for {
				if err := c.WriteMessage(BinaryMessage, msg); err != nil {
					return err
				}
				written++
			}
		})
		before := memSnapshot()
		start := time.Now()
		rc, _ := dialWS(t, s.addr, "")
		err, ok := s.nextEnded(t, 20*time.Second)
		elapsed := time.Since(start)
		after := memSnapshot()
		t.Logf("after %v: serve returned=%v err=%v; heap %+d B", elapsed, ok, err, heapGrowth(before, after))
		assert.Less(t, heapGrowth(before, after), int64(4<<20), "writes are bounded by the socket buffers")
		if !assert.True(t, ok, "the stalled write did not fail within 20 s (stall timeout %v)", defaultWriteStallTimeout.get()) {
			return
		}
		t.Logf("%d messages written before the stall", written)
		var ne net.Error
		if assert.True(t, errors.As(err, &ne), "want a net.Error, got %T %v", err, err) {
			assert.True(t, ne.Timeout(), "want a timeout, got %v", err)
		}
		rc.expectTCPClosed(1 << 30)
	})

	t.Run("steady", func(t *testing.T) {
		// The client lets the server fill the socket buffers, then reads
		// 16 KiB every 100 ms for 3 s. On Linux loopback the kernel wakes a
		// blocked writer only once a good part of its send queue drained,
		// so a blocked Write sees no progress of its own for longer than
		// the 1 s bound; the peer's acknowledgements are progress all the
		// same, and the write must go on. (The pace must open the
		// receive window by an MSS, 64 KiB on loopback, within each
		// bound: a peer that does not is taking no bytes at the TCP level,
		// which is what the bound detects.)
		stop := make(chan struct{})
		var written, longest atomic.Int64
		s := startAdvServer(t, &Upgrader{}, func(c *Conn) error {
			for {
				select {
				case <-stop:
					return nil
				default:
				}
				t0 := time.Now()
				if err := c.WriteMessage(BinaryMessage, msg); err != nil {
					return err
				}
				if d := int64(time.Since(t0)); d > longest.Load() {
					longest.Store(d)
				}
				written.Add(1)
			}
		})
		rc, _ := dialWS(t, s.addr, "")
		// Filled: no message written for 300 ms.
		last, changed := int64(-1), time.Now()
		require.True(t, pollUntil(testIOTimeout, func() bool {
			if w := written.Load(); w != last {
				last, changed = w, time.Now()
			}
			return time.Since(changed) > 300*time.Millisecond
		}), "the server's writes never blocked")
		filled := written.Load()
		longest.Store(0)
		_, _ = rc.br.Discard(rc.br.Buffered())
		buf := make([]byte, 16<<10)
		for range 30 { // 16 KiB every 100 ms for 3 s, from the socket
			require.NoError(t, rc.nc.SetReadDeadline(time.Now().Add(testIOTimeout)))
			_, err := io.ReadFull(rc.nc, buf)
			require.NoError(t, err, "the server cut off a steady reader")
			time.Sleep(100 * time.Millisecond) // the reader's pace, not synchronisation
		}
		t.Logf("%d messages filled the buffers; %d written while the client read 480 KiB in 3 s; longest write returned meanwhile %v (0: none)",
			filled, written.Load()-filled, time.Duration(longest.Load()))
		select {
		case err := <-s.ended:
			t.Errorf("serve ended while the client read steadily: %v", err)
		default:
			close(stop)
			rc.nc.Close()
			err, ok := s.nextEnded(t, testIOTimeout)
			require.True(t, ok)
			t.Logf("serve returned %v", err)
		}
	})
}
