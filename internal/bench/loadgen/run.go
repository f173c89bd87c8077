// Package loadgen is a neutral WebSocket load generator for the wsup
// benchmarks. It speaks RFC 6455 over raw TCP itself (hand-written opening
// handshake, pre-masked frames, optional permessage-deflate with no context
// takeover) so that no library under test is involved on the client side, and
// it verifies every echoed byte against the payload it sent.
package loadgen

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/klauspost/compress/flate"
)

// Config configures one Run. Zero durations and counts take the defaults
// documented per field.
type Config struct {
	// Addr is the host:port of the echo server (loopback only in practice).
	Addr string
	// Workload is what to run; it must pass Validate.
	Workload Workload
	// Warmup is the load applied before the measured window (default 250ms,
	// at most 1 minute). Unused by Idle workloads.
	Warmup time.Duration
	// Duration is the measured window (default 1s, at most 10 minutes).
	// Unused by Idle workloads.
	Duration time.Duration
	// Settle is how long Idle workloads wait after the last handshake before
	// reading the server's RSS, and Broadcast workloads before the first
	// round (default 1s, at most 1 minute).
	Settle time.Duration
	// ServerPID, when positive, is the server process whose CPU time (load
	// workloads) or RSS (Idle workloads) is sampled from /proc.
	ServerPID int
	// IOTimeout bounds each dial plus handshake and, for Idle workloads, each
	// liveness echo; for Broadcast workloads, each broadcast until the last
	// client has it; for Churn workloads, each connection's echo and
	// closing handshake (default 10s, at most 1 minute).
	IOTimeout time.Duration
	// DialConcurrency is the number of parallel dials (default 64, at most
	// 1024).
	DialConcurrency int
	// HeapPath, when set, is a path on the server (the echoserver's
	// HeapPath) answering its live Go heap; compressed Idle workloads (and
	// uncompressed ones with EchoFirst) then also report heap growth per
	// connection.
	HeapPath string
	// EchoFirst makes an uncompressed Idle workload exchange one verified
	// echo on every connection before the server's memory is read, as a
	// compressed one always does, so the two can be compared: what a used
	// connection keeps rather than a fresh one.
	EchoFirst bool
	// MinPerConn, when positive, keeps load workloads running past the
	// measured window (for at most IOTimeout) until every connection has
	// verified at least this many echoes. Tests use it to assert coverage
	// without depending on timing.
	MinPerConn int64
}

// maxErrorSamples bounds Result.ErrorSamples.
const maxErrorSamples = 5

// Result is the outcome of one Run. Counters cover the measured window unless
// the field says otherwise.
type Result struct {
	Workload string `json:"workload"`
	// Messages is the number of verified echoes in the measured window.
	Messages int64 `json:"messages"`
	// Elapsed is the length of the measured window: Duration, extended
	// (by at most IOTimeout) until at least one echo arrived in it.
	Elapsed time.Duration `json:"elapsed_ns"`
	// MsgsPerSec is Messages / Elapsed.
	MsgsPerSec float64 `json:"msgs_per_sec"`
	// TotalMessages counts verified echoes over the whole run, warmup and
	// Idle liveness checks included.
	TotalMessages int64 `json:"total_messages"`
	// VerifiedBytes counts payload bytes compared equal over the whole run.
	VerifiedBytes int64 `json:"verified_bytes"`
	// Mismatches counts echoed messages over the whole run whose opcode,
	// length or any byte differed from what was sent.
	Mismatches int64 `json:"mismatches"`
	// ServerCPU is the server's utime+stime spent in the measured window
	// (zero without ServerPID).
	ServerCPU time.Duration `json:"server_cpu_ns"`
	// CPUPerMsgMicros is ServerCPU in microseconds / Messages.
	CPUPerMsgMicros float64 `json:"cpu_us_per_msg"`
	// P50 and P99 are round-trip latency percentiles (Latency workloads).
	P50            time.Duration `json:"p50_ns"`
	P99            time.Duration `json:"p99_ns"`
	LatencySamples int           `json:"latency_samples"`
	// Idle workloads: server VmRSS before dialing and after all handshakes
	// plus Settle, and the growth per connection.
	IdleConns     int     `json:"idle_conns"`
	RSSBeforeKiB  int64   `json:"rss_before_kib"`
	RSSAfterKiB   int64   `json:"rss_after_kib"`
	RSSPerConnKiB float64 `json:"rss_per_conn_kib"`
	// Compressed Idle workloads with HeapPath: the server's live Go heap
	// (after a GC) before dialing and after the echoes plus Settle, the
	// growth per connection, and MemPerConnKiB, the larger of the RSS and
	// heap growths per connection.
	HeapBeforeKiB  int64   `json:"heap_before_kib,omitempty"`
	HeapAfterKiB   int64   `json:"heap_after_kib,omitempty"`
	HeapPerConnKiB float64 `json:"heap_per_conn_kib,omitempty"`
	MemPerConnKiB  float64 `json:"mem_per_conn_kib,omitempty"`
	// WireBytesPerMsg is the mean payload bytes on the wire (compressed,
	// when permessage-deflate was negotiated) of the verified echoes.
	WireBytesPerMsg float64 `json:"wire_bytes_per_msg,omitempty"`
	// Broadcast workloads: Messages counts delivered (verified) copies,
	// Rounds the broadcasts completed in the window, and LastClientP50 and
	// LastClientMax the time from sending a broadcast until the last client
	// had verified it (median and worst round). Churn workloads: Messages
	// counts connections that completed connect, upgrade, echo and close.
	Rounds        int           `json:"rounds,omitempty"`
	LastClientP50 time.Duration `json:"last_client_p50_ns,omitempty"`
	LastClientMax time.Duration `json:"last_client_max_ns,omitempty"`
	// Compressed is true when permessage-deflate was negotiated.
	Compressed bool `json:"compressed"`
	// ErrorCount counts connections that failed during the run (after a
	// successful handshake); ErrorSamples holds the first few messages.
	ErrorCount   int      `json:"error_count"`
	ErrorSamples []string `json:"error_samples,omitempty"`
}

// OK reports whether the run completed with at least one verified echo, no
// mismatch and no connection error.
func (r Result) OK() bool {
	return r.TotalMessages > 0 && r.Mismatches == 0 && r.ErrorCount == 0
}

// withDefaults fills zero fields and rejects out-of-range ones.
func (c Config) withDefaults() (Config, error) {
	if c.Addr == "" {
		return c, errors.New("loadgen: empty Addr")
	}
	if err := c.Workload.Validate(); err != nil {
		return c, err
	}
	def := func(d *time.Duration, v, limit time.Duration, name string) error {
		if *d == 0 {
			*d = v
		}
		if *d < 0 || *d > limit {
			return fmt.Errorf("loadgen: %s %v not in (0, %v]", name, *d, limit)
		}
		return nil
	}
	for _, e := range []error{
		def(&c.Warmup, 250*time.Millisecond, time.Minute, "warmup"),
		def(&c.Duration, time.Second, 10*time.Minute, "duration"),
		def(&c.Settle, time.Second, time.Minute, "settle"),
		def(&c.IOTimeout, 10*time.Second, time.Minute, "io timeout"),
	} {
		if e != nil {
			return c, e
		}
	}
	if c.DialConcurrency == 0 {
		c.DialConcurrency = 64
	}
	if c.MinPerConn < 0 || c.MinPerConn > 1<<20 {
		return c, fmt.Errorf("loadgen: min per conn %d not in [0, %d]", c.MinPerConn, 1<<20)
	}
	if c.DialConcurrency < 1 || c.DialConcurrency > 1024 {
		return c, fmt.Errorf("loadgen: dial concurrency %d not in [1, 1024]", c.DialConcurrency)
	}
	return c, nil
}

// Run executes one workload against cfg.Addr and returns its measurements.
// It returns an error for invalid configuration, failed dials or handshakes,
// a compression workload the server did not negotiate, an unreadable
// ServerPID, or ctx cancellation; errors on established connections are
// counted in the Result instead. Every phase is bounded by the configured
// durations and timeouts. Run may be called concurrently.
func Run(ctx context.Context, cfg Config) (Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Result{}, err
	}
	if _, err := RaiseNoFile(uint64(cfg.Workload.Conns) + 64); err != nil {
		return Result{}, err
	}
	switch cfg.Workload.Kind {
	case Idle:
		return runIdle(ctx, cfg)
	case Broadcast:
		return runBroadcast(ctx, cfg)
	case Churn:
		return runChurn(ctx, cfg)
	}
	return runLoad(ctx, cfg)
}

// errorLog collects connection errors with a bounded sample.
type errorLog struct {
	mu      sync.Mutex
	count   int
	samples []string
}

// n returns the number of errors recorded so far.
func (l *errorLog) n() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.count
}

// add records err.
func (l *errorLog) add(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.count++
	if len(l.samples) < maxErrorSamples {
		l.samples = append(l.samples, err.Error())
	}
}

// dialAll opens n connections with bounded parallelism. On any failure it
// closes what it opened and returns the first error.
func dialAll(ctx context.Context, cfg Config, n int, offerDeflate bool, readBuf int) ([]*wsConn, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	conns := make([]*wsConn, n)
	next := make(chan int)
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	workers := min(cfg.DialConcurrency, n)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				offer := ""
				if offerDeflate {
					offer = offerFor(cfg.Workload)
				}
				c, err := dialWS(ctx, cfg.Addr, offer, cfg.IOTimeout, readBuf)
				if err != nil {
					once.Do(func() { firstErr = fmt.Errorf("connection %d: %w", i, err); cancel() })
					continue
				}
				conns[i] = c
			}
		}()
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		closeAll(conns)
		return nil, firstErr
	}
	return conns, nil
}

// closeAll closes every non-nil connection.
func closeAll(conns []*wsConn) {
	for _, c := range conns {
		if c != nil {
			_ = c.nc.Close()
		}
	}
}

// wirePayload returns the bytes carried in each client frame: the payload
// itself, or (compress) its raw DEFLATE encoding with a sync flush and the
// trailing 0x00 0x00 0xff 0xff removed as RFC 7692 requires.
func wirePayload(payload []byte, compress bool) ([]byte, error) {
	if !compress {
		return payload, nil
	}
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.BestSpeed)
	if err != nil {
		return nil, err
	}
	if _, err := fw.Write(payload); err != nil {
		return nil, err
	}
	if err := fw.Flush(); err != nil {
		return nil, err
	}
	b, ok := bytes.CutSuffix(buf.Bytes(), flateTail)
	if !ok {
		return nil, errors.New("loadgen: flate sync flush did not end with 00 00 ff ff")
	}
	return b, nil
}

// randomKey returns a fresh masking key.
func randomKey() ([4]byte, error) {
	var k [4]byte
	_, err := rand.Read(k[:])
	return k, err
}

// readBufSize picks the per-connection read buffer for a payload size.
func readBufSize(size int) int {
	if size <= 1<<10 {
		return 4 << 10
	}
	return 64 << 10
}

// sleepCtx waits for d or until ctx is done, returning ctx.Err() in the
// latter case.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
