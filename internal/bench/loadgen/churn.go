package loadgen

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// closeNormal is the payload of the client's close frame: status 1000.
var closeNormal = []byte{0x03, 0xE8}

// runChurn runs a Churn workload: Conns clients, each repeating connect,
// upgrade, one verified echo, closing handshake and close until the
// measured window (after Warmup) ends. Messages counts the connections
// completed in the window.
func runChurn(ctx context.Context, cfg Config) (Result, error) {
	w := cfg.Workload
	payload := makePayload(w.Payload, w.Size)
	var (
		completed, bytes, mismatches atomic.Int64
		stop                         atomic.Bool
		errs                         errorLog
		wg                           sync.WaitGroup
	)
	for range w.Conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				r, err := churnOnce(ctx, cfg, w.opcode(), payload)
				if err != nil {
					if ctx.Err() == nil {
						errs.add(err)
					}
					return
				}
				if r.matched {
					completed.Add(1)
					bytes.Add(int64(r.bytes))
				} else {
					mismatches.Add(1)
				}
			}
		}()
	}
	res, err := measureCount(ctx, cfg, completed.Load, errs.n)
	stop.Store(true)
	wg.Wait()
	if err != nil {
		return Result{}, err
	}
	res.Workload = w.Name
	res.TotalMessages = completed.Load()
	res.VerifiedBytes = bytes.Load()
	res.Mismatches = mismatches.Load()
	res.ErrorCount, res.ErrorSamples = errs.snapshot()
	return res, nil
}

// churnOnce opens one connection, echoes payload once, runs the closing
// handshake (the client's close frame must be answered with one) and
// closes. Every step is bounded by cfg.IOTimeout.
func churnOnce(ctx context.Context, cfg Config, opcode byte, payload []byte) (echoResult, error) {
	c, err := dialWS(ctx, cfg.Addr, "", cfg.IOTimeout, 4<<10)
	if err != nil {
		return echoResult{}, fmt.Errorf("dial: %w", err)
	}
	defer func() { _ = c.nc.Close() }()
	key, err := randomKey()
	if err != nil {
		return echoResult{}, err
	}
	if err := c.nc.SetDeadline(time.Now().Add(cfg.IOTimeout)); err != nil {
		return echoResult{}, err
	}
	if _, err := c.nc.Write(appendClientFrame(nil, opcode, false, payload, key)); err != nil {
		return echoResult{}, fmt.Errorf("write: %w", err)
	}
	v := echoVerifier{br: c.br, expected: payload, opcode: opcode}
	r, err := v.next()
	if err != nil {
		return echoResult{}, fmt.Errorf("read echo: %w", err)
	}
	if _, err := c.nc.Write(appendClientFrame(nil, opClose, false, closeNormal, key)); err != nil {
		return echoResult{}, fmt.Errorf("write close: %w", err)
	}
	if _, err := v.next(); !errors.Is(err, errServerClose) {
		return echoResult{}, fmt.Errorf("closing handshake: want a close frame, got %v", err)
	}
	return r, nil
}

// measureCount applies the warmup, then samples count and the server's CPU
// around the measured window, extending it (by at most IOTimeout) until
// count moved or failures reports one.
func measureCount(ctx context.Context, cfg Config, count func() int64, failures func() int) (Result, error) {
	var res Result
	if err := sleepCtx(ctx, cfg.Warmup); err != nil {
		return res, err
	}
	var cpu0, cpu1 time.Duration
	var err error
	if cfg.ServerPID > 0 {
		if cpu0, err = ProcessCPU(cfg.ServerPID); err != nil {
			return res, fmt.Errorf("loadgen: server CPU: %w", err)
		}
	}
	m0, t0 := count(), time.Now()
	if err := sleepCtx(ctx, cfg.Duration); err != nil {
		return res, err
	}
	if err := waitFor(ctx, cfg.IOTimeout, func() bool { return count() > m0 || failures() > 0 }); err != nil {
		return res, err
	}
	m1, t1 := count(), time.Now()
	if cfg.ServerPID > 0 {
		if cpu1, err = ProcessCPU(cfg.ServerPID); err != nil {
			return res, fmt.Errorf("loadgen: server CPU: %w", err)
		}
	}
	res.Messages, res.Elapsed, res.ServerCPU = m1-m0, t1.Sub(t0), cpu1-cpu0
	res.MsgsPerSec = float64(res.Messages) / res.Elapsed.Seconds()
	if res.Messages > 0 {
		res.CPUPerMsgMicros = float64(res.ServerCPU.Microseconds()) / float64(res.Messages)
	}
	return res, nil
}
