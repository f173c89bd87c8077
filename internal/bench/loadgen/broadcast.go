package loadgen

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// bcastRun is the state shared by the readers of a Broadcast run.
type bcastRun struct {
	n int64
	// payload is the message of the current round. It is stored before
	// the round's message is sent and read once its first byte arrives.
	payload atomic.Pointer[[]byte]
	// remaining counts the clients that have not yet verified the round.
	remaining atomic.Int64
	// done receives the time the last client verified the round.
	done chan time.Time

	verified   atomic.Int64
	bytes      atomic.Int64
	mismatches atomic.Int64
	stopping   atomic.Bool
	errs       errorLog
	failOnce   sync.Once
	failed     chan struct{} // closed at the first connection error
}

// fail records err (unless the run is stopping) and wakes the coordinator.
func (b *bcastRun) fail(err error) {
	if b.stopping.Load() {
		return
	}
	b.errs.add(err)
	b.failOnce.Do(func() { close(b.failed) })
}

// read verifies every broadcast message arriving on c.
func (b *bcastRun) read(c *wsConn, opcode byte) {
	v := &echoVerifier{br: c.br, opcode: opcode, deflate: c.deflate, serverTakeover: c.serverTakeover}
	for {
		// Wait for the round's first byte before choosing what to expect.
		if _, err := c.br.Peek(1); err != nil {
			b.fail(fmt.Errorf("read: %w", err))
			return
		}
		v.expected = *b.payload.Load()
		res, err := v.next()
		if err != nil {
			b.fail(fmt.Errorf("read: %w", err))
			return
		}
		if res.matched {
			b.verified.Add(1)
			b.bytes.Add(int64(res.bytes))
		} else {
			b.mismatches.Add(1)
		}
		switch left := b.remaining.Add(-1); {
		case left == 0:
			b.done <- time.Now()
		case left < 0:
			b.fail(errUnsolicited)
			return
		}
	}
}

// roundPayload returns base with its first bytes replaced by the round
// number in decimal, so that a stale or repeated delivery is a mismatch.
func roundPayload(base []byte, round int) []byte {
	p := slices.Clone(base)
	digits := fmt.Sprintf("%010d", round)
	copy(p, digits[len(digits)-min(len(digits), len(p)):])
	return p
}

// runBroadcast runs a Broadcast workload: after Settle, rounds of one
// message sent on the first connection, each complete when every
// connection has verified its copy, for Warmup (at least one round) and
// then for the measured window (at least minMeasuredRounds rounds).
func runBroadcast(ctx context.Context, cfg Config) (Result, error) {
	w := cfg.Workload
	base := makePayload(w.Payload, w.Size)
	conns, err := dialAll(ctx, cfg, w.Conns, w.Compress, readBufSize(w.Size))
	if err != nil {
		return Result{}, err
	}
	defer closeAll(conns)
	for _, c := range conns {
		if w.Compress && !c.deflate {
			return Result{}, errNotNegotiated
		}
	}
	key, err := randomKey()
	if err != nil {
		return Result{}, err
	}
	b := &bcastRun{n: int64(len(conns)), done: make(chan time.Time, 1), failed: make(chan struct{})}
	b.payload.Store(&base)
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() { defer wg.Done(); b.read(c, w.opcode()) }()
	}
	defer func() {
		b.stopping.Store(true)
		now := time.Now()
		for _, c := range conns {
			_ = c.nc.SetDeadline(now)
		}
		wg.Wait()
	}()
	// The servers register a client right after its handshake; let the
	// last ones settle before the first round.
	if err := sleepCtx(ctx, cfg.Settle); err != nil {
		return Result{}, err
	}
	round := 0
	var frame []byte
	// rounds runs rounds for at least d and at least minRounds, and
	// returns the time each took until its last delivery.
	rounds := func(d time.Duration, minRounds int) ([]time.Duration, error) {
		var took []time.Duration
		for end := time.Now().Add(d); len(took) < minRounds || time.Now().Before(end); {
			round++
			p := roundPayload(base, round)
			b.payload.Store(&p)
			b.remaining.Store(b.n)
			frame = appendClientFrame(frame[:0], w.opcode(), false, p, key)
			t0 := time.Now()
			if _, err := conns[0].nc.Write(frame); err != nil {
				return nil, fmt.Errorf("loadgen: sending broadcast %d: %w", round, err)
			}
			t, err := b.wait(ctx, cfg.IOTimeout, round)
			if err != nil {
				return nil, err
			}
			took = append(took, t.Sub(t0))
		}
		return took, nil
	}
	res := Result{Workload: w.Name, Compressed: w.Compress}
	finish := func(err error) (Result, error) {
		if errors.Is(err, errRoundFailed) {
			err = nil // reported through ErrorCount
		}
		res.TotalMessages = b.verified.Load()
		res.VerifiedBytes = b.bytes.Load()
		res.Mismatches = b.mismatches.Load()
		res.ErrorCount, res.ErrorSamples = b.errs.snapshot()
		return res, err
	}
	if _, err := rounds(cfg.Warmup, 1); err != nil {
		return finish(err)
	}
	var cpu0, cpu1 time.Duration
	if cfg.ServerPID > 0 {
		if cpu0, err = ProcessCPU(cfg.ServerPID); err != nil {
			return Result{}, fmt.Errorf("loadgen: server CPU: %w", err)
		}
	}
	m0, t0 := b.verified.Load(), time.Now()
	took, err := rounds(cfg.Duration, minMeasuredRounds)
	if err != nil {
		return finish(err)
	}
	m1, t1 := b.verified.Load(), time.Now()
	if cfg.ServerPID > 0 {
		if cpu1, err = ProcessCPU(cfg.ServerPID); err != nil {
			return Result{}, fmt.Errorf("loadgen: server CPU: %w", err)
		}
	}
	res.Messages, res.Elapsed, res.ServerCPU = m1-m0, t1.Sub(t0), cpu1-cpu0
	res.MsgsPerSec = float64(res.Messages) / res.Elapsed.Seconds()
	if res.Messages > 0 {
		res.CPUPerMsgMicros = float64(res.ServerCPU.Microseconds()) / float64(res.Messages)
	}
	slices.Sort(took)
	res.Rounds = len(took)
	res.LastClientP50 = percentile(took, 0.5)
	res.LastClientMax = took[len(took)-1]
	return finish(nil)
}

// minMeasuredRounds is the fewest broadcasts in a measured window: a
// broadcast to 10,000 clients takes a few hundred milliseconds on a small
// machine, and the server's CPU time is read with 10 ms resolution.
const minMeasuredRounds = 10

// errRoundFailed marks a round that ended because a connection failed; the
// failure itself is in the run's error log.
var errRoundFailed = errors.New("loadgen: broadcast round failed")

// wait returns when the last client has verified the current round, a
// connection failed, limit elapsed (an error naming how many clients are
// still missing the message) or ctx is done.
func (b *bcastRun) wait(ctx context.Context, limit time.Duration, round int) (time.Time, error) {
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case t := <-b.done:
		return t, nil
	case <-b.failed:
		return time.Time{}, errRoundFailed
	case <-timer.C:
		missing := b.remaining.Load()
		b.fail(fmt.Errorf("broadcast %d: %d of %d clients did not receive it within %v", round, missing, b.n, limit))
		return time.Time{}, errRoundFailed
	case <-ctx.Done():
		return time.Time{}, ctx.Err()
	}
}

// snapshot returns the error count and samples.
func (l *errorLog) snapshot() (int, []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.count, slices.Clone(l.samples)
}
