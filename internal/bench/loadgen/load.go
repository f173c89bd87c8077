package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// maxLatencySamples bounds the memory used for round-trip samples.
const maxLatencySamples = 2 << 20

// errUnsolicited reports an echo that arrived with no message outstanding.
var errUnsolicited = errors.New("loadgen: received a message that was not sent")

// loadConn is the per-connection state of a throughput or latency run.
type loadConn struct {
	c *wsConn
	// inflight holds one send timestamp (ns since the run's base time) per
	// outstanding message; its capacity is the in-flight window.
	inflight chan int64
	batch    []byte // InFlight copies of the masked frame, back to back
	frameLen int

	verified   atomic.Int64
	bytes      atomic.Int64
	wire       atomic.Int64 // wire payload bytes of verified echoes
	mismatches atomic.Int64

	samples []time.Duration // owned by the reader goroutine
	maxSamp int
}

// loadRun is the state shared by all connections of a run.
type loadRun struct {
	base      time.Time
	latency   bool
	measuring atomic.Bool
	stopping  atomic.Bool
	done      chan struct{}
	errs      errorLog
}

// runLoad runs a Throughput or Latency workload.
func runLoad(ctx context.Context, cfg Config) (Result, error) {
	w := cfg.Workload
	payload := makePayload(w.Payload, w.Size)
	wire, err := wirePayload(payload, w.Compress)
	if err != nil {
		return Result{}, err
	}
	conns, err := dialAll(ctx, cfg, w.Conns, w.Compress, readBufSize(w.Size))
	if err != nil {
		return Result{}, err
	}
	defer closeAll(conns)

	run := &loadRun{base: time.Now(), latency: w.Kind == Latency, done: make(chan struct{})}
	lcs := make([]*loadConn, len(conns))
	for i, c := range conns {
		if w.Compress && !c.deflate {
			return Result{}, errNotNegotiated
		}
		key, err := randomKey()
		if err != nil {
			return Result{}, err
		}
		frame := appendClientFrame(nil, w.opcode(), w.Compress, wire, key)
		lc := &loadConn{
			c:        c,
			inflight: make(chan int64, w.InFlight),
			batch:    make([]byte, 0, len(frame)*w.InFlight),
			frameLen: len(frame),
		}
		for range w.InFlight {
			lc.batch = append(lc.batch, frame...)
		}
		if run.latency {
			lc.maxSamp = maxLatencySamples / len(conns)
		}
		lcs[i] = lc
	}

	var wg sync.WaitGroup
	for _, lc := range lcs {
		v := &echoVerifier{
			br: lc.c.br, expected: payload, opcode: w.opcode(),
			deflate: lc.c.deflate, serverTakeover: lc.c.serverTakeover,
		}
		wg.Add(2)
		go func() { defer wg.Done(); run.write(lc) }()
		go func() { defer wg.Done(); run.read(lc, v) }()
	}
	res, measureErr := run.measure(ctx, cfg, lcs)
	run.stopping.Store(true)
	close(run.done)
	now := time.Now()
	for _, lc := range lcs {
		_ = lc.c.nc.SetDeadline(now)
	}
	wg.Wait()
	if measureErr != nil {
		return Result{}, measureErr
	}

	res.Workload = w.Name
	res.Compressed = w.Compress
	var all []time.Duration
	var wireTotal int64
	for _, lc := range lcs {
		wireTotal += lc.wire.Load()
		res.TotalMessages += lc.verified.Load()
		res.VerifiedBytes += lc.bytes.Load()
		res.Mismatches += lc.mismatches.Load()
		all = append(all, lc.samples...)
	}
	if res.TotalMessages > 0 {
		res.WireBytesPerMsg = float64(wireTotal) / float64(res.TotalMessages)
	}
	if len(all) > 0 {
		slices.Sort(all)
		res.LatencySamples = len(all)
		res.P50 = percentile(all, 0.50)
		res.P99 = percentile(all, 0.99)
	}
	res.ErrorCount = run.errs.count
	res.ErrorSamples = run.errs.samples
	return res, nil
}

// measure applies the warmup, then samples counters and server CPU around the
// measured window.
func (run *loadRun) measure(ctx context.Context, cfg Config, lcs []*loadConn) (Result, error) {
	var res Result
	if err := sleepCtx(ctx, cfg.Warmup); err != nil {
		return res, err
	}
	sum := func() int64 {
		var n int64
		for _, lc := range lcs {
			n += lc.verified.Load()
		}
		return n
	}
	var cpu0, cpu1 time.Duration
	var err error
	if cfg.ServerPID > 0 {
		if cpu0, err = ProcessCPU(cfg.ServerPID); err != nil {
			return res, fmt.Errorf("loadgen: server CPU: %w", err)
		}
	}
	m0, t0 := sum(), time.Now()
	run.measuring.Store(true)
	if err := sleepCtx(ctx, cfg.Duration); err != nil {
		return res, err
	}
	// A window without a single echo has no rate; extend it (bounded) so a
	// briefly starved machine yields a slower figure rather than none.
	if err := waitFor(ctx, cfg.IOTimeout, func() bool { return sum() > m0 || run.errs.n() > 0 }); err != nil {
		return res, err
	}
	run.measuring.Store(false)
	m1, t1 := sum(), time.Now()
	if cfg.ServerPID > 0 {
		if cpu1, err = ProcessCPU(cfg.ServerPID); err != nil {
			return res, fmt.Errorf("loadgen: server CPU: %w", err)
		}
	}
	if cfg.MinPerConn > 0 {
		enough := func() bool {
			for _, lc := range lcs {
				if lc.verified.Load() < cfg.MinPerConn {
					return run.errs.n() > 0
				}
			}
			return true
		}
		if err := waitFor(ctx, cfg.IOTimeout, enough); err != nil {
			return res, err
		}
	}
	res.Messages = m1 - m0
	res.Elapsed = t1.Sub(t0)
	res.MsgsPerSec = float64(res.Messages) / res.Elapsed.Seconds()
	res.ServerCPU = cpu1 - cpu0
	if res.Messages > 0 {
		res.CPUPerMsgMicros = float64(res.ServerCPU.Microseconds()) / float64(res.Messages)
	}
	return res, nil
}

// write keeps the in-flight window full. Whenever the window has room it
// claims every free slot at once and sends that many frames in one write.
func (run *loadRun) write(lc *loadConn) {
	k := cap(lc.inflight)
	for {
		select {
		case lc.inflight <- run.stamp():
		case <-run.done:
			return
		}
		n := 1
	fill:
		for n < k {
			select {
			case lc.inflight <- run.stamp():
				n++
			default:
				break fill
			}
		}
		if _, err := lc.c.nc.Write(lc.batch[:n*lc.frameLen]); err != nil {
			if !run.stopping.Load() {
				run.errs.add(fmt.Errorf("write: %w", err))
			}
			return
		}
	}
}

// read verifies echoes until the connection fails or the run stops.
func (run *loadRun) read(lc *loadConn, v *echoVerifier) {
	for {
		res, err := v.next()
		if err != nil {
			if !run.stopping.Load() {
				run.errs.add(fmt.Errorf("read: %w", err))
			}
			return
		}
		var sent int64
		select {
		case sent = <-lc.inflight:
		default:
			if !run.stopping.Load() {
				run.errs.add(errUnsolicited)
			}
			return
		}
		if res.matched {
			lc.verified.Add(1)
			lc.bytes.Add(int64(res.bytes))
			lc.wire.Add(int64(res.wire))
		} else {
			lc.mismatches.Add(1)
		}
		if run.latency && run.measuring.Load() && len(lc.samples) < lc.maxSamp {
			lc.samples = append(lc.samples, time.Duration(run.stamp()-sent))
		}
	}
}

// stamp returns the time since the run's base for latency runs and 0
// otherwise, keeping clock reads off the throughput path.
func (run *loadRun) stamp() int64 {
	if !run.latency {
		return 0
	}
	return int64(time.Since(run.base))
}

// percentile returns the nearest-rank p-quantile of sorted, which must be
// non-empty.
func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// waitFor polls cond every millisecond until it holds, limit elapses (not an
// error: the caller reports what it got) or ctx is done.
func waitFor(ctx context.Context, limit time.Duration, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() && time.Now().Before(deadline) {
		if err := sleepCtx(ctx, time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}
