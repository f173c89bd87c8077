package bench

import (
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsup/websocket/internal/bench/echo"
	"github.com/wsup/websocket/internal/bench/loadgen"
)

// runBroadcast runs a small broadcast workload against addr.
func runBroadcast(t *testing.T, addr string, w loadgen.Workload, timeout time.Duration) loadgen.Result {
	t.Helper()
	res, err := loadgen.Run(t.Context(), loadgen.Config{
		Addr: addr, Workload: w, Warmup: 20 * time.Millisecond, Duration: 50 * time.Millisecond,
		Settle: 50 * time.Millisecond, IOTimeout: timeout,
	})
	require.NoError(t, err)
	return res
}

func TestBroadcastServersVerified(t *testing.T) {
	for _, impl := range echo.BroadcastImpls {
		for _, w := range []loadgen.Workload{
			tiny("text", loadgen.Broadcast, loadgen.PayloadText, 1<<10, 30, 1, false),
			tiny("deflate", loadgen.Broadcast, loadgen.PayloadJSON, 1<<10, 10, 1, true),
		} {
			t.Run(impl+"/"+w.Name, func(t *testing.T) {
				h, err := echo.BroadcastHandler(impl, echo.Options{Compress: w.Compress})
				require.NoError(t, err)
				res := runBroadcast(t, serve(t, h), w, 30*time.Second)
				assert.True(t, res.OK(), "%d mismatches, errors %v", res.Mismatches, res.ErrorSamples)
				require.Positive(t, res.Rounds)
				// Every round reached every client, warm-up rounds included.
				assert.Zero(t, res.TotalMessages%int64(w.Conns))
				assert.Equal(t, int64(res.Rounds*w.Conns), res.Messages)
				assert.Equal(t, res.TotalMessages*int64(w.Size), res.VerifiedBytes)
				assert.Positive(t, res.LastClientP50)
				assert.GreaterOrEqual(t, res.LastClientMax, res.LastClientP50)
				assert.Equal(t, w.Compress, res.Compressed)
			})
		}
	}
	_, err := echo.BroadcastHandler("limit", echo.Options{})
	assert.Error(t, err)
}

// faultyBroadcast is a gorilla broadcast server that corrupts the copy sent
// to one client (corrupt) or skips that client (skip).
func faultyBroadcast(skip bool) http.Handler {
	up := websocket.Upgrader{}
	var (
		conns = make(chan *websocket.Conn, 64)
		all   []*websocket.Conn
	)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = c.Close() }()
		conns <- c
		for {
			mt, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			// Only the first client sends, so all is touched by one
			// goroutine.
			for len(conns) > 0 {
				all = append(all, <-conns)
			}
			for i, to := range all {
				q := p
				if i == len(all)-1 {
					if skip {
						continue
					}
					q = append([]byte(nil), p...)
					q[len(q)/2] ^= 1
				}
				if err := to.WriteMessage(mt, q); err != nil {
					return
				}
			}
		}
	})
}

func TestBroadcastVerificationDetectsFaults(t *testing.T) {
	w := tiny("text", loadgen.Broadcast, loadgen.PayloadText, 1<<10, 4, 1, false)
	t.Run("corrupted", func(t *testing.T) {
		res := runBroadcast(t, serve(t, faultyBroadcast(false)), w, 10*time.Second)
		assert.Positive(t, res.Mismatches)
		assert.False(t, res.OK())
	})
	t.Run("missing", func(t *testing.T) {
		res := runBroadcast(t, serve(t, faultyBroadcast(true)), w, 300*time.Millisecond)
		assert.Positive(t, res.ErrorCount)
		require.NotEmpty(t, res.ErrorSamples)
		assert.Contains(t, res.ErrorSamples[0], "1 of 4 clients did not receive it")
		assert.False(t, res.OK())
	})
}

func TestChurnVerified(t *testing.T) {
	w := tiny("churn", loadgen.Churn, loadgen.PayloadText, 32, 4, 1, false)
	for _, impl := range echo.Impls {
		t.Run(impl, func(t *testing.T) {
			h, err := echo.Handler(impl, echo.Options{})
			require.NoError(t, err)
			res := runTiny(t, serve(t, h), w)
			assert.True(t, res.OK(), "%d mismatches, errors %v", res.Mismatches, res.ErrorSamples)
			assert.Positive(t, res.Messages, "connections completed in the window")
			assert.Equal(t, res.TotalMessages*int64(w.Size), res.VerifiedBytes)
		})
	}
}

func TestChurnDetectsMissingCloseReply(t *testing.T) {
	// This server answers the echo but drops the connection instead of
	// answering the client's close frame.
	up := websocket.Upgrader{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = c.NetConn().Close() }()
		mt, p, err := c.ReadMessage()
		if err == nil {
			_ = c.WriteMessage(mt, p)
		}
	})
	res, err := loadgen.Run(t.Context(), loadgen.Config{
		Addr: serve(t, h), Workload: tiny("churn", loadgen.Churn, loadgen.PayloadText, 32, 2, 1, false),
		Warmup: 20 * time.Millisecond, Duration: 50 * time.Millisecond, IOTimeout: 5 * time.Second,
	})
	require.NoError(t, err)
	assert.Positive(t, res.ErrorCount)
	require.NotEmpty(t, res.ErrorSamples)
	// Depending on timing the close frame's write or the wait for the
	// reply fails; either names the close.
	assert.Contains(t, res.ErrorSamples[0], "close")
	assert.False(t, res.OK())
}
