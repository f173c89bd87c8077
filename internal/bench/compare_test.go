package bench

import (
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsup/websocket/internal/bench/driver"
	"github.com/wsup/websocket/internal/bench/echo"
	"github.com/wsup/websocket/internal/bench/loadgen"
)

// compressImpls are the servers whose permessage-deflate path is exercised.
var compressImpls = []string{"gorilla", "wsup", "coder", "gws", "gobwas"}

// serve runs h on a loopback listener until the test ends.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// tiny returns a small variant of a load workload.
func tiny(name string, kind loadgen.Kind, payload string, size, conns, inflight int, compress bool) loadgen.Workload {
	return loadgen.Workload{Name: name, Title: name, Kind: kind, Payload: payload, Size: size,
		Conns: conns, InFlight: inflight, Compress: compress}
}

func runTiny(t *testing.T, addr string, w loadgen.Workload) loadgen.Result {
	t.Helper()
	res, err := loadgen.Run(t.Context(), loadgen.Config{
		Addr: addr, Workload: w, Warmup: 20 * time.Millisecond, Duration: 60 * time.Millisecond,
		Settle: 20 * time.Millisecond, IOTimeout: 30 * time.Second, MinPerConn: 2,
	})
	require.NoError(t, err)
	return res
}

func TestEchoServersVerified(t *testing.T) {
	workloads := []loadgen.Workload{
		tiny("text", loadgen.Throughput, loadgen.PayloadText, 32, 4, 8, false),
		tiny("binary64k", loadgen.Throughput, loadgen.PayloadBinary, 64<<10, 2, 2, false),
		tiny("binary1m", loadgen.Throughput, loadgen.PayloadBinary, 1<<20, 1, 1, false),
		tiny("latency", loadgen.Latency, loadgen.PayloadText, 32, 3, 1, false),
		tiny("idle", loadgen.Idle, loadgen.PayloadText, 32, 40, 1, false),
		tiny("deflate", loadgen.Throughput, loadgen.PayloadJSON, 16<<10, 2, 2, true),
		tiny("idledeflatenct", loadgen.Idle, loadgen.PayloadJSON, 1<<10, 20, 1, true),
		tiny("idledeflate", loadgen.Idle, loadgen.PayloadJSON, 1<<10, 20, 1, true),
	}
	workloads[len(workloads)-1].Takeover = true
	for _, impl := range echo.Impls {
		for _, w := range workloads {
			if w.Compress && !slices.Contains(compressImpls, impl) {
				continue
			}
			t.Run(impl+"/"+w.Name, func(t *testing.T) {
				h, err := echo.Handler(impl, echo.Options{Compress: w.Compress})
				require.NoError(t, err)
				res := runTiny(t, serve(t, h), w)
				assert.Zero(t, res.Mismatches)
				assert.Zero(t, res.ErrorCount, res.ErrorSamples)
				require.Positive(t, res.TotalMessages)
				if w.Kind != loadgen.Idle {
					assert.GreaterOrEqual(t, res.TotalMessages, int64(2*w.Conns), "MinPerConn reached on every conn")
				}
				// Every verified message contributed exactly Size compared bytes.
				assert.Equal(t, res.TotalMessages*int64(w.Size), res.VerifiedBytes)
				assert.Equal(t, w.Compress, res.Compressed)
				if w.Compress && w.Kind != loadgen.Idle {
					assert.Positive(t, res.WireBytesPerMsg)
					assert.Less(t, res.WireBytesPerMsg, float64(w.Size)/2, "JSON echoes are compressed")
				}
				switch w.Kind {
				case loadgen.Latency:
					assert.Positive(t, res.LatencySamples)
					assert.GreaterOrEqual(t, res.P99, res.P50)
				case loadgen.Idle:
					assert.Equal(t, int64(w.Conns), res.TotalMessages, "one liveness echo per idle conn")
				}
			})
		}
	}
}

// corruptingHandler echoes like gorilla but flips one bit of every second
// message, which the generator must notice. Every second (not every third)
// so that MinPerConn's two verified echoes per connection guarantee that a
// corrupted one was read, however slow the machine.
func corruptingHandler(compress bool) http.Handler {
	return gorillaEcho(compress, func(i int, p []byte) {
		if i%2 == 1 {
			p[len(p)/2] ^= 0x20
		}
	})
}

// gorillaEcho echoes every message with gorilla's ReadMessage and
// WriteMessage, calling each with the message's index on its connection
// and its payload (which each may change) before sending it back.
func gorillaEcho(compress bool, each func(i int, p []byte)) http.Handler {
	up := websocket.Upgrader{EnableCompression: compress}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = c.Close() }()
		for i := 0; ; i++ {
			mt, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			each(i, p)
			if err := c.WriteMessage(mt, p); err != nil {
				return
			}
		}
	})
}

func TestVerificationDetectsCorruption(t *testing.T) {
	for _, w := range []loadgen.Workload{
		tiny("text", loadgen.Throughput, loadgen.PayloadText, 32, 2, 4, false),
		tiny("binary64k", loadgen.Throughput, loadgen.PayloadBinary, 64<<10, 1, 2, false),
		tiny("deflate", loadgen.Throughput, loadgen.PayloadJSON, 16<<10, 1, 2, true),
	} {
		t.Run(w.Name, func(t *testing.T) {
			res := runTiny(t, serve(t, corruptingHandler(w.Compress)), w)
			assert.Positive(t, res.Mismatches)
			assert.Positive(t, res.TotalMessages, "untouched messages still verify")
			assert.False(t, res.OK())
		})
	}
}

func TestCompareSmoke(t *testing.T) {
	mod, err := driver.ModuleDir(t.Context())
	require.NoError(t, err)
	bin := t.TempDir()
	require.NoError(t, driver.Build(t.Context(), mod, bin, nil))

	var ws []loadgen.Workload
	for _, name := range []string{"text32", "bin64k", "latency32", "idle10k", "churn"} {
		w, err := loadgen.LookupWorkload(name)
		require.NoError(t, err)
		ws = append(ws, w)
	}
	// A small broadcast row checks that the driver starts broadcast servers.
	ws = append(ws, tiny("bcast", loadgen.Broadcast, loadgen.PayloadText, 1<<10, 20, 1, false))
	cfg := driver.Config{
		BinDir: bin, Impls: []string{"gorilla", "wsup", "gws", driver.Limit}, Workloads: ws, Rounds: 1,
		Warmup: 30 * time.Millisecond, Duration: 100 * time.Millisecond, Settle: 30 * time.Millisecond,
		IdleConns: 50, MinPerConn: 2,
	}
	samples, err := driver.Run(t.Context(), cfg)
	require.NoError(t, err)
	runs := 0
	for _, w := range ws {
		for _, impl := range cfg.Impls {
			if driver.Supports(impl, w) {
				runs++
			}
		}
	}
	require.Len(t, samples, runs)
	assert.Less(t, runs, len(ws)*len(cfg.Impls), "limit has no broadcast server")
	byName := map[string]loadgen.Workload{}
	for _, w := range ws {
		byName[w.Name] = w
	}
	for _, s := range samples {
		assert.Empty(t, s.Err, "%s/%s", s.Impl, s.Workload)
		assert.Zero(t, s.Result.Mismatches, "%s/%s", s.Impl, s.Workload)
		assert.Positive(t, s.Result.TotalMessages, "%s/%s", s.Impl, s.Workload)
		w := byName[s.Workload]
		assert.Equal(t, s.Result.TotalMessages*int64(w.Size), s.Result.VerifiedBytes, "every echoed byte verified")
	}
	msgs, bytes, mism := driver.Verified(samples)
	assert.Positive(t, msgs)
	assert.Positive(t, bytes)
	assert.Zero(t, mism)

	table := driver.Markdown(cfg, samples)
	assert.Contains(t, table, "| Workload | Metric | gorilla | wsup | gws | limit | gorilla ÷ limit | wsup ÷ limit | gws ÷ limit |")
	assert.Contains(t, table, "idle, 50 conns")
	assert.Contains(t, table, "| bcast | server CPU µs/delivery |")
	assert.NotContains(t, table, "fail")
	assert.Equal(t, 1+1+2+2+3+1+2+3, strings.Count(table, "\n"), "header, separator and one line per metric row")
}

// TestIdleEchoFirst: with EchoFirst an uncompressed idle workload echoes
// once on every connection before the server's memory is read (the heap
// probe sees every echo done), and reads the heap before and after.
func TestIdleEchoFirst(t *testing.T) {
	var echoed atomic.Int64
	var mu sync.Mutex
	var seen []int64 // echoes done at each heap probe
	mux := http.NewServeMux()
	// Counted before the echo goes back, so every echo the client has
	// verified is counted.
	mux.Handle("/", gorillaEcho(false, func(int, []byte) { echoed.Add(1) }))
	mux.HandleFunc(loadgen.HeapPath, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, echoed.Load())
		mu.Unlock()
		_, _ = io.WriteString(w, "1048576\n")
	})
	w := tiny("idle", loadgen.Idle, loadgen.PayloadText, 32, 10, 1, false)
	res, err := loadgen.Run(t.Context(), loadgen.Config{
		Addr: serve(t, mux), Workload: w, Settle: 20 * time.Millisecond,
		IOTimeout: 30 * time.Second, HeapPath: loadgen.HeapPath, EchoFirst: true,
	})
	require.NoError(t, err)
	assert.Equal(t, int64(w.Conns), res.TotalMessages, "one echo per connection")
	assert.Zero(t, res.Mismatches)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []int64{0, int64(w.Conns)}, seen, "heap read before dialing and after every echo")
	assert.Equal(t, int64(1024), res.HeapAfterKiB)
}
