// Pipelined-echo interop tests: each client sends pipelineCount messages
// back to back without waiting for the echoes, and reads them concurrently.
// Our server, with write coalescing on (its default) and off, with and
// without permessage-deflate, must return every message intact, in order
// and with its type, then close normally.

package interop

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http/httptest"
	"os/exec"
	"testing"
	"time"
	"unicode/utf8"

	coder "github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wsup/websocket"
)

const (
	// pipelineCount is the number of messages each client pipelines.
	pipelineCount = 500
	// pipelineMaxSize is the largest message size (64 KiB).
	pipelineMaxSize = 64 << 10
	// pipelineSeed1 and pipelineSeed2 seed the PCG generator of the
	// messages, so every run sends the same ones.
	pipelineSeed1, pipelineSeed2 = 0x7069706c696e6521, 0x636f616c65736365
	// pipelineIOTimeout bounds a whole session: the dial, every write and
	// read on both sides, and the Node process.
	pipelineIOTimeout = 15 * time.Second
	// pipelineEndGrace is how long after pipelineIOTimeout the test waits
	// for the server's results (its Close waits up to 5 s for the client's
	// close frame).
	pipelineEndGrace = 5 * time.Second
)

// pipelineBoundarySizes are given to every 71st message, so the extremes
// and the 7/16/64-bit frame length encodings all appear.
var pipelineBoundarySizes = []int{0, 1, 125, 126, 127, 65535, pipelineMaxSize}

// pipelineRunes are the characters text messages are made of (1 to 4
// bytes in UTF-8).
var pipelineRunes = []string{"a", "Z", " ", "7", "é", "ж", "日", "€", "🎉", "𝄞"}

// pipelineMessages returns the pipelineCount messages every client sends:
// sizes from 0 to 64 KiB, mostly small (so that the server holds and
// coalesces their echoes) with some large ones in between, text (valid
// UTF-8 of mixed widths) or binary at random. The result is the same on
// every call.
func pipelineMessages() []payloadCase {
	r := rand.New(rand.NewPCG(pipelineSeed1, pipelineSeed2))
	msgs := make([]payloadCase, pipelineCount)
	for i := range msgs {
		var n int
		switch p := r.IntN(100); {
		case i%71 == 0:
			n = pipelineBoundarySizes[(i/71)%len(pipelineBoundarySizes)]
		case p < 50:
			n = r.IntN(65)
		case p < 75:
			n = 65 + r.IntN(1024-65+1)
		case p < 90:
			n = 1025 + r.IntN(16<<10-1025+1)
		default:
			n = 16<<10 + 1 + r.IntN(pipelineMaxSize-16<<10)
		}
		if r.IntN(2) == 0 {
			msgs[i] = payloadCase{name: fmt.Sprintf("%d/text/%d", i, n), typ: websocket.TextMessage, data: pipelineText(r, n)}
		} else {
			msgs[i] = payloadCase{name: fmt.Sprintf("%d/binary/%d", i, n), typ: websocket.BinaryMessage, data: pipelineBinary(r, n)}
		}
	}
	return msgs
}

// pipelineText returns exactly n bytes of valid UTF-8 drawn from r.
func pipelineText(r *rand.Rand, n int) []byte {
	b := make([]byte, 0, n)
	for len(b) < n {
		s := pipelineRunes[r.IntN(len(pipelineRunes))]
		if len(s) > n-len(b) {
			s = string(rune('a' + r.IntN(26)))
		}
		b = append(b, s...)
	}
	return b
}

// pipelineBinary returns n bytes drawn from r.
func pipelineBinary(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	var x uint64
	for i := range b {
		if i%8 == 0 {
			x = r.Uint64()
		}
		b[i] = byte(x >> (8 * (i % 8)))
	}
	return b
}

// pipelineConfig is one server setup of the pipelined echo.
type pipelineConfig struct {
	name     string
	compress bool // server EnableCompression and client offer
	coalesce bool // false sets DisableWriteCoalescing
	mode     echoMode
}

// pipelineConfigs returns every combination of compression, coalescing
// and echo mode.
func pipelineConfigs() []pipelineConfig {
	var cfgs []pipelineConfig
	for _, compress := range []bool{false, true} {
		for _, coalesce := range []bool{true, false} {
			for _, mode := range []echoMode{echoWhole, echoStream} {
				name := map[bool]string{false: "plain", true: "deflate"}[compress] +
					map[bool]string{false: "/no-coalesce", true: "/coalesce"}[coalesce] + "/" + mode.String()
				cfgs = append(cfgs, pipelineConfig{name: name, compress: compress, coalesce: coalesce, mode: mode})
			}
		}
	}
	return cfgs
}

// pipelineServer is an Upgrader.Handler echo server on 127.0.0.1.
type pipelineServer struct {
	wsURL string
	// served receives the error that ended the echo of pipelineCount
	// messages (nil when all were echoed), after which the Handler closes
	// the connection normally.
	served chan error
	// closed receives the code Hooks.OnClose reports.
	closed chan int
}

// startPipelineServer starts a server that echoes pipelineCount messages
// per connection and then returns, so that the Handler closes it with
// CloseNormalClosure. Its reads and writes stop at deadline. The server is
// closed at the end of the test.
func startPipelineServer(t *testing.T, cfg pipelineConfig, deadline time.Time) *pipelineServer {
	t.Helper()
	s := &pipelineServer{served: make(chan error, 1), closed: make(chan int, 1)}
	up := &websocket.Upgrader{
		EnableCompression:      cfg.compress,
		DisableWriteCoalescing: !cfg.coalesce,
		Hooks: websocket.Hooks{OnClose: func(_ *websocket.Conn, code int, _ time.Duration) {
			select {
			case s.closed <- code:
			default:
			}
		}},
	}
	handler := up.Handler(func(c *websocket.Conn) {
		err := pipelineEcho(c, cfg.mode, deadline)
		select {
		case s.served <- err:
		default:
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(handler)
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	s.wsURL = "ws://" + ln.Addr().String() + "/"
	return s
}

// pipelineEcho echoes pipelineCount messages on c and returns the first
// error.
func pipelineEcho(c *websocket.Conn, mode echoMode, deadline time.Time) error {
	if err := errors.Join(c.SetReadDeadline(deadline), c.SetWriteDeadline(deadline)); err != nil {
		return err
	}
	c.SetReadLimit(clientReadLimit)
	for i := 0; i < pipelineCount; i++ {
		if err := echoOne(c, mode); err != nil {
			return fmt.Errorf("echo %d: %w", i, err)
		}
	}
	return nil
}

// checkEnd checks that the server echoed every message and that its
// connection ended with a normal close.
func (s *pipelineServer) checkEnd(t *testing.T, deadline time.Time) {
	t.Helper()
	assert.NoError(t, pipelineRecv(t, s.served, deadline, "server echo result"), "server echoing %d messages", pipelineCount)
	assert.Equal(t, websocket.CloseNormalClosure, pipelineRecv(t, s.closed, deadline, "server OnClose"), "close code of the server's OnClose hook")
}

// pipelineRecv waits for a value on ch until pipelineEndGrace after
// deadline.
func pipelineRecv[T any](t *testing.T, ch <-chan T, deadline time.Time, what string) T {
	t.Helper()
	timer := time.NewTimer(time.Until(deadline) + pipelineEndGrace)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		require.FailNowf(t, "timeout", "no %s by %v after the session deadline", what, pipelineEndGrace)
	}
	var zero T
	return zero
}

// checkPipelineEcho checks the i-th echo against the i-th message sent and
// reports whether it matches.
func checkPipelineEcho(t *testing.T, i int, want payloadCase, gotBinary bool, got []byte) bool {
	t.Helper()
	ok := assert.Equalf(t, want.typ == websocket.BinaryMessage, gotBinary, "echo %d (%s): binary message type", i, want.name)
	if !bytes.Equal(want.data, got) {
		off := 0
		for off < len(want.data) && off < len(got) && want.data[off] == got[off] {
			off++
		}
		ok = assert.Failf(t, "echo differs", "echo %d (%s): got %d bytes, first difference at offset %d", i, want.name, len(got), off)
	}
	return ok
}

// assertExtensions checks that the 101 response negotiated
// permessage-deflate exactly when compression is on.
func assertExtensions(t *testing.T, compress bool, ext string) {
	t.Helper()
	if compress {
		assert.Contains(t, ext, "permessage-deflate", "negotiated extensions")
	} else {
		assert.Empty(t, ext, "negotiated extensions")
	}
}

func TestPipelineMessages(t *testing.T) {
	msgs := pipelineMessages()
	require.Len(t, msgs, pipelineCount)
	assert.Equal(t, msgs, pipelineMessages(), "messages are deterministic")
	sizes := map[int]bool{}
	var text, bin, small, large int
	for i, m := range msgs {
		sizes[len(m.data)] = true
		assert.LessOrEqualf(t, len(m.data), pipelineMaxSize, "message %d size", i)
		switch m.typ {
		case websocket.TextMessage:
			text++
			assert.Truef(t, utf8.Valid(m.data), "message %d is valid UTF-8", i)
		case websocket.BinaryMessage:
			bin++
		default:
			assert.Failf(t, "bad type", "message %d has type %d", i, m.typ)
		}
		if len(m.data) <= 1024 {
			small++
		}
		if len(m.data) > 16<<10 {
			large++
		}
	}
	for _, n := range pipelineBoundarySizes {
		assert.Truef(t, sizes[n], "a message of %d bytes is sent", n)
	}
	assert.Greater(t, text, pipelineCount/4, "text messages")
	assert.Greater(t, bin, pipelineCount/4, "binary messages")
	assert.Greater(t, small, pipelineCount/2, "messages of at most 1 KiB")
	assert.Greater(t, large, pipelineCount/20, "messages over 16 KiB")
}

func TestPipelineGorilla(t *testing.T) {
	msgs := pipelineMessages()
	for _, cfg := range pipelineConfigs() {
		t.Run(cfg.name, func(t *testing.T) {
			deadline := time.Now().Add(pipelineIOTimeout)
			srv := startPipelineServer(t, cfg, deadline)
			d := gorilla.Dialer{EnableCompression: cfg.compress, HandshakeTimeout: pipelineIOTimeout}
			c, resp, err := d.Dial(srv.wsURL, nil)
			if resp != nil && resp.Body != nil {
				_ = resp.Body.Close()
			}
			require.NoError(t, err, "gorilla dial")
			t.Cleanup(func() { _ = c.Close() })
			assertExtensions(t, cfg.compress, resp.Header.Get("Sec-WebSocket-Extensions"))
			c.SetReadLimit(clientReadLimit)
			require.NoError(t, c.SetReadDeadline(deadline))
			require.NoError(t, c.SetWriteDeadline(deadline))

			written := make(chan error, 1)
			go func() {
				for i, m := range msgs {
					if err := c.WriteMessage(m.typ, m.data); err != nil {
						written <- fmt.Errorf("message %d: %w", i, err)
						return
					}
				}
				written <- nil
			}()
			for i, want := range msgs {
				typ, got, err := c.ReadMessage()
				require.NoErrorf(t, err, "reading echo %d", i)
				if !checkPipelineEcho(t, i, want, typ == gorilla.BinaryMessage, got) {
					return
				}
			}
			require.NoError(t, pipelineRecv(t, written, deadline, "end of the client's writes"))

			_, _, err = c.ReadMessage()
			var ce *gorilla.CloseError
			require.ErrorAs(t, err, &ce, "the read after the last echo ends with the server's close")
			assert.Equal(t, gorilla.CloseNormalClosure, ce.Code, "close code the client received")
			srv.checkEnd(t, deadline)
		})
	}
}

func TestPipelineCoder(t *testing.T) {
	msgs := pipelineMessages()
	for _, cfg := range pipelineConfigs() {
		t.Run(cfg.name, func(t *testing.T) {
			deadline := time.Now().Add(pipelineIOTimeout)
			ctx, cancel := context.WithDeadline(context.Background(), deadline)
			defer cancel()
			srv := startPipelineServer(t, cfg, deadline)
			opts := &coder.DialOptions{CompressionMode: coder.CompressionDisabled}
			if cfg.compress {
				opts.CompressionMode = coder.CompressionContextTakeover
			}
			c, resp, err := coder.Dial(ctx, srv.wsURL, opts)
			require.NoError(t, err, "coder dial")
			t.Cleanup(func() { _ = c.CloseNow() })
			assertExtensions(t, cfg.compress, resp.Header.Get("Sec-WebSocket-Extensions"))
			c.SetReadLimit(clientReadLimit)

			written := make(chan error, 1)
			go func() {
				for i, m := range msgs {
					if err := c.Write(ctx, coderType(m.typ), m.data); err != nil {
						written <- fmt.Errorf("message %d: %w", i, err)
						return
					}
				}
				written <- nil
			}()
			for i, want := range msgs {
				typ, got, err := c.Read(ctx)
				require.NoErrorf(t, err, "reading echo %d", i)
				if !checkPipelineEcho(t, i, want, typ == coder.MessageBinary, got) {
					return
				}
			}
			require.NoError(t, pipelineRecv(t, written, deadline, "end of the client's writes"))

			_, _, err = c.Read(ctx)
			require.Error(t, err, "the read after the last echo ends with the server's close")
			assert.Equal(t, coder.StatusNormalClosure, coder.CloseStatus(err), "close code the client received (read error: %v)", err)
			srv.checkEnd(t, deadline)
		})
	}
}

// nodePipelineLine is one JSON line printed by node/pipeline.mjs.
type nodePipelineLine struct {
	Step       string `json:"step"`
	OK         bool   `json:"ok"`
	Error      string `json:"error"`
	Extensions string `json:"extensions"`
	I          int    `json:"i"`
	Binary     bool   `json:"binary"`
	Len        int    `json:"len"`
	SHA256     string `json:"sha256"`
	Count      int    `json:"count"`
	Code       int    `json:"code"`
	Reason     string `json:"reason"`
}

// nodePipelineInput encodes msgs for pipeline.mjs's stdin: per message a
// type byte (1 text, 2 binary), a big-endian uint32 length and the payload.
func nodePipelineInput(msgs []payloadCase) []byte {
	var b []byte
	for _, m := range msgs {
		b = append(b, byte(m.typ))
		b = binary.BigEndian.AppendUint32(b, uint32(len(m.data)))
		b = append(b, m.data...)
	}
	return b
}

// runNodePipeline runs pipeline.mjs against url with input on stdin, until
// deadline, and returns its lines.
func runNodePipeline(t *testing.T, node, url string, input []byte, deflate bool, deadline time.Time) []nodePipelineLine {
	t.Helper()
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	args := []string{"pipeline.mjs", url}
	if deflate {
		args = append(args, "--deflate")
	}
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = nodeDir
	cmd.WaitDelay = 2 * time.Second
	cmd.Stdin = bytes.NewReader(input)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	runErr := cmd.Run()
	require.NoError(t, ctx.Err(), "pipeline.mjs did not finish by the session deadline; stderr:\n%s", stderr.String())

	var lines []nodePipelineLine
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		var l nodePipelineLine
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l), "pipeline.mjs printed a line that is not JSON: %q", sc.Text())
		lines = append(lines, l)
	}
	require.NoError(t, sc.Err())
	assert.NoError(t, runErr, "pipeline.mjs exit status; stderr:\n%s", stderr.String())
	return lines
}

func TestPipelineNode(t *testing.T) {
	node := requireNode(t)
	msgs := pipelineMessages()
	input := nodePipelineInput(msgs)
	for _, cfg := range pipelineConfigs() {
		t.Run(cfg.name, func(t *testing.T) {
			deadline := time.Now().Add(pipelineIOTimeout)
			srv := startPipelineServer(t, cfg, deadline)
			lines := runNodePipeline(t, node, srv.wsURL, input, cfg.compress, deadline)
			require.NotEmpty(t, lines, "pipeline.mjs printed nothing")

			var echoes []nodePipelineLine
			var steps []string
			byStep := map[string]nodePipelineLine{}
			for _, l := range lines {
				assert.Truef(t, l.OK, "pipeline.mjs step %s failed: %+v", l.Step, l)
				if l.Step == "echo" {
					echoes = append(echoes, l)
					continue
				}
				steps = append(steps, l.Step)
				byStep[l.Step] = l
			}
			assert.Equal(t, []string{"open", "sent", "close"}, steps, "steps other than echo, in order")
			assert.Equal(t, "open", lines[0].Step, "first line")
			assert.Equal(t, "close", lines[len(lines)-1].Step, "last line")
			assertExtensions(t, cfg.compress, byStep["open"].Extensions)
			assert.Equal(t, pipelineCount, byStep["sent"].Count, "messages ws reported as sent")

			assert.Equal(t, pipelineCount, len(echoes), "echoes received")
			for i, got := range echoes[:min(len(echoes), len(msgs))] {
				want := msgs[i]
				sum := sha256.Sum256(want.data)
				ok := assert.Equalf(t, i, got.I, "echo %d: index", i) &&
					assert.Equalf(t, want.typ == websocket.BinaryMessage, got.Binary, "echo %d (%s): binary message type", i, want.name) &&
					assert.Equalf(t, len(want.data), got.Len, "echo %d (%s): length", i, want.name) &&
					assert.Equalf(t, hex.EncodeToString(sum[:]), got.SHA256, "echo %d (%s): SHA-256 of the payload", i, want.name)
				if !ok {
					break
				}
			}
			assert.Equal(t, websocket.CloseNormalClosure, byStep["close"].Code, "close code the client received")
			assert.Empty(t, byStep["close"].Reason, "close reason the client received")
			srv.checkEnd(t, deadline)
		})
	}
}
