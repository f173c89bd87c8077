package websocket

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsup/websocket/frame"
)

// stressMsg is a data message as sent or reassembled.
type stressMsg struct {
	op   frame.Opcode
	data []byte
}

// stressPing is a ping and the number of messages before it on the wire:
// its pong follows that many echoes (held echoes precede control frames).
type stressPing struct {
	payload string
	after   int
}

// stressPayload returns n random bytes, lowercase letters when text.
func stressPayload(r *rand.Rand, n int, text bool) []byte {
	p := make([]byte, n)
	for i := range p {
		if p[i] = byte(r.Uint32()); text {
			p[i] = 'a' + p[i]%26
		}
	}
	return p
}

// stressSize draws a payload size up to 20 KiB, mostly small enough to hold.
func stressSize(r *rand.Rand) int {
	switch p := r.IntN(100); {
	case p < 10:
		return 0
	case p < 55:
		return r.IntN(126)
	case p < 80:
		return 126 + r.IntN(4000)
	}
	return 4096 + r.IntN(16<<10+1)
}

// stressBatch builds one pipelined batch of 1 to 12 text or binary
// messages, a quarter of them fragmented, with pings between messages and
// between fragments; its frames are masked unless unmasked.
func stressBatch(r *rand.Rand, round int, unmasked bool) (wire []byte, msgs []stressMsg, pings []stressPing) {
	ping := func() {
		p := fmt.Sprintf("r%d.%d.", round, len(pings))
		p += strings.Repeat("x", r.IntN(frame.MaxControlPayload+1-len(p)))
		pings = append(pings, stressPing{payload: p, after: len(msgs)})
		wire = append(wire, rawFrame{fin: true, op: frame.OpPing, payload: []byte(p), unmasked: unmasked}.encode()...)
	}
	for range 1 + r.IntN(12) {
		if r.IntN(5) == 0 {
			ping()
		}
		m := stressMsg{op: []frame.Opcode{frame.OpText, frame.OpBinary}[r.IntN(2)]}
		m.data = stressPayload(r, stressSize(r), m.op == frame.OpText)
		cuts := []int{0, len(m.data)}
		if r.IntN(4) == 0 {
			for range 1 + r.IntN(3) {
				cuts = append(cuts, r.IntN(len(m.data)+1))
			}
			slices.Sort(cuts)
		}
		for i := 1; i < len(cuts); i++ {
			op := m.op
			if i > 1 {
				op = frame.OpContinuation
				if r.IntN(5) == 0 {
					ping()
				}
			}
			f := rawFrame{fin: i == len(cuts)-1, op: op, payload: m.data[cuts[i-1]:cuts[i]], unmasked: unmasked}
			wire = append(wire, f.encode()...)
		}
		msgs = append(msgs, m)
	}
	if r.IntN(5) == 0 {
		ping()
	}
	return wire, msgs, pings
}

// msgAsm reassembles data messages; it fails the test if two interleave.
type msgAsm struct {
	cur stressMsg
	in  bool
}

// add takes a data frame and returns the message it completes, if any.
func (a *msgAsm) add(t *testing.T, f gotFrame) (stressMsg, bool) {
	t.Helper()
	if f.h.Opcode == frame.OpContinuation {
		require.True(t, a.in, "continuation frame without a message in progress")
	} else {
		require.False(t, a.in, "a new message inside another: messages interleaved")
		a.cur, a.in = stressMsg{op: f.h.Opcode, data: []byte{}}, true
	}
	a.cur.data = append(a.cur.data, f.payload...)
	a.in = !f.h.Fin
	return a.cur, f.h.Fin
}

// goErr runs fn on a goroutine and delivers its error (see waitErr).
func goErr(fn func() error) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- fn() }()
	return ch
}

// sendAsync writes b to nc on a goroutine, as the peer echoes meanwhile.
func sendAsync(nc net.Conn, b []byte) <-chan error {
	return goErr(func() error {
		_ = nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		_, err := nc.Write(b)
		return err
	})
}

// echoLoop runs echo on a goroutine until it fails, and sends the error.
func echoLoop(echo func() error) <-chan error {
	return goErr(func() error {
		for {
			if err := echo(); err != nil {
				return err
			}
		}
	})
}

// streamEcho echoes messages through NextReader, NextWriter and io.Copy.
func streamEcho(c *Conn) <-chan error {
	return echoLoop(func() error {
		mt, r, err := c.NextReader()
		if err != nil {
			return err
		}
		w, err := c.NextWriter(mt)
		if err != nil {
			return err
		}
		_, err = io.Copy(w, r)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		return err
	})
}

// writeChunks writes p through NextWriter, 1000 bytes per Write.
func writeChunks(c *Conn, mt int, p []byte) error {
	w, err := c.NextWriter(mt)
	if err != nil {
		return err
	}
	for len(p) > 0 {
		k := min(len(p), 1000)
		_, _ = w.Write(p[:k])
		p = p[k:]
	}
	return w.Close()
}

// chunkEcho echoes messages read whole and written through writeChunks.
func chunkEcho(c *Conn) <-chan error {
	return echoLoop(func() error {
		mt, p, err := c.ReadMessage()
		if err != nil {
			return err
		}
		return writeChunks(c, mt, p)
	})
}

var closeNormal = rawFrame{fin: true, op: frame.OpClose, payload: FormatCloseMessage(CloseNormalClosure, "")}

// closeFromPeer runs the closing handshake from the raw peer: the Conn's
// next frame is its close answer (masked when it is a client), and its read
// loop ends with the peer's close.
func closeFromPeer(t *testing.T, rc *rawClient, done <-chan error, client bool) {
	t.Helper()
	rc.send(rawFrame{fin: true, op: frame.OpClose, payload: closeNormal.payload, unmasked: client})
	got, err := rc.read()
	require.NoError(t, err)
	assert.Equal(t, frame.OpClose, got.h.Opcode, "no frame is left before the close answer")
	assert.Equal(t, client, got.h.Masked)
	assert.True(t, IsCloseError(waitErr(t, done), CloseNormalClosure))
}

// TestStressCoalesceEcho: 200 rounds of pipelined batches (mixed sizes,
// fragments, pings) come back byte-exact and in order; each pong carries its
// ping's payload and follows exactly the echoes before it; a client Conn's
// held frames are validly masked.
func TestStressCoalesceEcho(t *testing.T) {
	for _, tc := range []struct {
		name   string
		echo   func(*Conn) <-chan error
		client bool // the Conn is a client: it reads unmasked frames and masks its own
	}{
		{name: "message", echo: echoServer},
		{name: "stream", echo: streamEcho},
		{name: "client", echo: chunkEcho, client: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, cl := tcpPair(t)
			cc := &writeCountConn{Conn: s} // also takes the read path of wrapped conns
			done := tc.echo(newConn(cc, connConfig{isServer: !tc.client}))
			rc := newRawClient(t, cl)
			r := rand.New(rand.NewPCG(1, 2))
			frames := 0
			var a msgAsm
			for round := range 200 {
				wire, msgs, pings := stressBatch(r, round, tc.client)
				sent := sendAsync(cl, wire)
				for nm, np := 0, 0; nm < len(msgs) || np < len(pings); {
					f, err := rc.read()
					require.NoError(t, err, "round %d", round)
					require.NoError(t, f.h.Check())
					require.Equal(t, tc.client, f.h.Masked, "round %d: masking", round)
					frame.Mask(f.h.Key, 0, f.payload) // a zero key for unmasked frames
					frames++
					if f.h.Opcode == frame.OpPong {
						require.Less(t, np, len(pings), "round %d: unexpected pong", round)
						assert.Equal(t, pings[np].payload, string(f.payload), "round %d pong %d", round, np)
						assert.Equal(t, pings[np].after, nm, "round %d pong %d: echoes before it", round, np)
						np++
						continue
					}
					require.True(t, f.h.Opcode.IsData(), "round %d: unexpected %v frame", round, f.h.Opcode)
					if m, ok := a.add(t, f); ok {
						require.Less(t, nm, len(msgs), "round %d: unexpected message", round)
						assert.Equal(t, msgs[nm].op, m.op, "round %d message %d", round, nm)
						assert.True(t, bytes.Equal(msgs[nm].data, m.data), "round %d message %d: %d bytes, want %d",
							round, nm, len(m.data), len(msgs[nm].data))
						nm++
					}
				}
				require.NoError(t, <-sent)
			}
			assert.Less(t, cc.writes.Load(), int64(frames), "no echo was ever coalesced")
			closeFromPeer(t, rc, done, tc.client)
		})
	}
}

// writerPayload is message seq of writer id: "w<id>:<seq>:" then filler.
func writerPayload(id, seq int) []byte {
	r := rand.New(rand.NewPCG(uint64(id), uint64(seq)))
	n := r.IntN(64)
	if r.IntN(4) == 0 {
		n = r.IntN(8 << 10)
	}
	return append(fmt.Appendf(nil, "w%d:%d:", id, seq), stressPayload(r, n, false)...)
}

// TestStressCoalesceConcurrentWriters: while the reader echoes pipelined
// input, 8 goroutines write numbered messages (whole or through NextWriter);
// all arrive whole, once, in their writer's order, and the echoes in theirs.
func TestStressCoalesceConcurrentWriters(t *testing.T) {
	const writers, perWriter = 8, 150
	s, cl := tcpPair(t)
	srv := newConn(s, connConfig{isServer: true})
	done := echoServer(srv)
	rc := newRawClient(t, cl)
	r := rand.New(rand.NewPCG(5, 6))
	var wire []byte
	var echoes [][]byte
	for range 300 {
		p := append(fmt.Appendf(nil, "e%d:", len(echoes)), stressPayload(r, r.IntN(3000), true)...)
		echoes = append(echoes, p)
		wire = append(wire, rawFrame{fin: true, op: frame.OpText, payload: p}.encode()...)
	}
	sent := sendAsync(cl, wire)
	var wg sync.WaitGroup
	for id := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := range perWriter {
				write := srv.WriteMessage
				if seq%3 == 0 {
					write = func(mt int, p []byte) error { return writeChunks(srv, mt, p) }
				}
				if !assert.NoError(t, write(BinaryMessage, writerPayload(id, seq)), "writer %d", id) {
					return
				}
			}
		}()
	}
	next := make([]int, writers)
	gotEchoes, gotWriter := 0, 0
	var a msgAsm
	for gotEchoes < len(echoes) || gotWriter < writers*perWriter {
		f, err := rc.read()
		require.NoError(t, err, "after %d echoes and %d writer messages", gotEchoes, gotWriter)
		m, ok := a.add(t, f)
		switch {
		case !ok:
		case m.op == frame.OpText:
			require.Less(t, gotEchoes, len(echoes))
			assert.Equal(t, string(echoes[gotEchoes]), string(m.data), "echo %d", gotEchoes)
			gotEchoes++
		default:
			var id, seq int
			_, err = fmt.Sscanf(string(m.data), "w%d:%d:", &id, &seq)
			require.NoError(t, err, "writer message %q", m.data[:min(len(m.data), 16)])
			require.True(t, id >= 0 && id < writers, "writer %d", id)
			require.Equal(t, next[id], seq, "writer %d: messages out of order or lost", id)
			assert.True(t, bytes.Equal(writerPayload(id, seq), m.data), "writer %d message %d corrupted", id, seq)
			next[id]++
			gotWriter++
		}
	}
	require.NoError(t, <-sent)
	require.NoError(t, waitErr(t, goErr(func() error { wg.Wait(); return nil })), "writers hang")
	closeFromPeer(t, rc, done, false)
}

// TestStressCoalesceSlowPeer: the peer starts reading only after a pause,
// so the socket fills and the reader's no-wait flush sends part of the held
// bytes, the flush timer the rest; every echo still arrives intact, once
// and in order.
func TestStressCoalesceSlowPeer(t *testing.T) {
	s, cl := tcpPair(t)
	require.NoError(t, s.(*net.TCPConn).SetWriteBuffer(64<<10))
	require.NoError(t, cl.(*net.TCPConn).SetReadBuffer(64<<10))
	done := echoServer(newConn(s, connConfig{isServer: true}))
	rc := newRawClient(t, cl)
	r := rand.New(rand.NewPCG(7, 8))
	var wire []byte
	var want [][]byte
	for i := range 3000 { // 330 KB of echoes: more than both socket buffers
		want = append(want, append(fmt.Appendf(nil, "s%d:", i), stressPayload(r, r.IntN(200), true)...))
		wire = append(wire, rawFrame{fin: true, op: frame.OpText, payload: want[i]}.encode()...)
	}
	sent := sendAsync(cl, wire)
	time.Sleep(50 * time.Millisecond) // let the echoes fill the socket (not an assertion)
	for i := range want {
		f, err := rc.read()
		require.NoError(t, err, "echo %d", i)
		require.Equal(t, string(want[i]), string(f.payload), "echo %d", i)
	}
	require.NoError(t, waitErr(t, sent))
	closeFromPeer(t, rc, done, false)
}

// TestStressCoalesceCloseRace: Close or Shutdown right after a held write,
// racing the flush timer (delays around coalesceDelay), sends the held echo
// before the close frame, returns nil and refuses later writes.
func TestStressCoalesceCloseRace(t *testing.T) {
	delays := []time.Duration{0, 20 * time.Microsecond, 90 * time.Microsecond, 110 * time.Microsecond, 300 * time.Microsecond}
	for _, shutdown := range []bool{false, true} {
		t.Run(fmt.Sprintf("shutdown=%v", shutdown), func(t *testing.T) {
			for i := range 40 {
				s, cl := tcpPair(t)
				srv := newConn(s, connConfig{isServer: true})
				up, wantCode := new(Upgrader), CloseNormalClosure
				if shutdown {
					_, err := up.track(srv)
					require.NoError(t, err)
					wantCode = CloseGoingAway
				}
				rc := newRawClient(t, cl)
				b, _ := pipelinedFrames(3)
				rc.sendBytes(b)
				_, p, err := srv.ReadMessage()
				require.NoError(t, err)
				require.NoError(t, srv.WriteMessage(TextMessage, p)) // held: m1 is buffered
				time.Sleep(delays[i%len(delays)])
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				closeFn := srv.Close
				if shutdown {
					closeFn = func() error { return up.Shutdown(ctx) }
				}
				closed := goErr(closeFn)
				code, before := rc.expectClose()
				assert.Equal(t, wantCode, code, "iteration %d", i)
				require.Len(t, before, 1, "iteration %d", i)
				assert.Equal(t, "m0", string(before[0].payload))
				rc.send(closeNormal)
				require.NoError(t, waitErr(t, closed), "iteration %d", i)
				cancel()
				assert.ErrorIs(t, srv.WriteMessage(TextMessage, []byte("late")), ErrCloseSent)
			}
		})
	}
}

// TestStressCoalesceSilentCloseHandler: echoes written before the peer's
// close frame was read reach the peer even when the close handler does not
// answer and the connection is closed right after it.
func TestStressCoalesceSilentCloseHandler(t *testing.T) {
	const n = 30
	s, cl := tcpPair(t)
	srv := newConn(s, connConfig{isServer: true})
	srv.SetCloseHandler(func(int, string) error { return nil })
	done := echoServer(srv)
	rc := newRawClient(t, cl)
	b, want := pipelinedFrames(n)
	rc.sendBytes(append(b, closeNormal.encode()...))
	var got []string
	for range n {
		f, err := rc.read()
		if err != nil {
			break
		}
		got = append(got, string(f.payload))
	}
	assert.Equal(t, want, got, "echoes reported as written were lost")
	assert.True(t, IsCloseError(waitErr(t, done), CloseNormalClosure))
}

// TestStressCoalesceWriteDeadline: once the write deadline has passed,
// whether set before a frame was held or while one is, every later write
// fails, whether it would be held or not, and none hangs.
func TestStressCoalesceWriteDeadline(t *testing.T) {
	for _, heldFirst := range []bool{false, true} {
		t.Run(fmt.Sprintf("heldFirst=%v", heldFirst), func(t *testing.T) {
			s, cl := tcpPair(t)
			srv := newConn(s, connConfig{isServer: true})
			b, _ := pipelinedFrames(4)
			newRawClient(t, cl).sendBytes(b)
			_, p, err := srv.ReadMessage()
			require.NoError(t, err) // m1 is buffered: small writes are held
			if heldFirst {
				require.NoError(t, srv.WriteMessage(TextMessage, p))
			}
			require.NoError(t, srv.SetWriteDeadline(time.Now().Add(-time.Second)))
			for _, w := range []struct {
				name  string
				write func() error
			}{
				{"small message", func() error { return srv.WriteMessage(TextMessage, []byte("late")) }},
				{"writer", func() error { return writeChunks(srv, BinaryMessage, []byte("late")) }},
				{"large message", func() error { return srv.WriteMessage(BinaryMessage, make([]byte, 64<<10)) }},
				{"ping", func() error { return srv.WriteControl(PingMessage, nil, time.Time{}) }},
				{"small message again", func() error { return srv.WriteMessage(TextMessage, []byte("later")) }},
			} {
				assert.Error(t, waitErr(t, goErr(w.write)), "%s after the write deadline passed", w.name)
			}
			// The first failed write failed the connection: it is closed.
			assert.ErrorIs(t, srv.NetConn().Close(), net.ErrClosed)
		})
	}
}
