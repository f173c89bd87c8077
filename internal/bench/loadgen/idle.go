package loadgen

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// runIdle opens Conns connections, leaves them idle for Settle, reads the
// server's RSS, then proves every connection is still served by one verified
// echo each.
//
// A compressed workload (or any with cfg.EchoFirst) measures connections
// that have been used: every connection first exchanges one echo, then sits
// idle for Settle before the server's memory is read; with cfg.HeapPath the
// server's live Go heap is read too, and MemPerConnKiB is the larger of the
// two growths.
func runIdle(ctx context.Context, cfg Config) (Result, error) {
	w := cfg.Workload
	res := Result{Workload: w.Name, IdleConns: w.Conns, Compressed: w.Compress}
	echoFirst := w.Compress || cfg.EchoFirst
	heap := echoFirst && cfg.HeapPath != ""
	var err error
	if heap {
		if res.HeapBeforeKiB, err = serverHeapKiB(ctx, cfg.Addr, cfg.HeapPath, cfg.IOTimeout); err != nil {
			return Result{}, err
		}
	}
	if cfg.ServerPID > 0 {
		if res.RSSBeforeKiB, err = ProcessRSSKiB(cfg.ServerPID); err != nil {
			return Result{}, fmt.Errorf("loadgen: server RSS: %w", err)
		}
	}
	conns, err := dialAll(ctx, cfg, w.Conns, w.Compress, 4<<10)
	if err != nil {
		return Result{}, err
	}
	defer closeAll(conns)
	if w.Compress {
		for _, c := range conns {
			if !c.deflate {
				return Result{}, errNotNegotiated
			}
		}
	}
	if echoFirst {
		if err := pingAll(ctx, cfg, conns, &res); err != nil {
			return Result{}, err
		}
	}
	if err := sleepCtx(ctx, cfg.Settle); err != nil {
		return Result{}, err
	}
	if heap {
		if res.HeapAfterKiB, err = serverHeapKiB(ctx, cfg.Addr, cfg.HeapPath, cfg.IOTimeout); err != nil {
			return Result{}, err
		}
		res.HeapPerConnKiB = float64(res.HeapAfterKiB-res.HeapBeforeKiB) / float64(w.Conns)
	}
	if cfg.ServerPID > 0 {
		if res.RSSAfterKiB, err = ProcessRSSKiB(cfg.ServerPID); err != nil {
			return Result{}, fmt.Errorf("loadgen: server RSS: %w", err)
		}
		res.RSSPerConnKiB = float64(res.RSSAfterKiB-res.RSSBeforeKiB) / float64(w.Conns)
	}
	res.MemPerConnKiB = max(res.RSSPerConnKiB, res.HeapPerConnKiB)
	if !echoFirst {
		if err := pingAll(ctx, cfg, conns, &res); err != nil {
			return Result{}, err
		}
	}
	return res, nil
}

// pingAll sends one message on every connection (bounded parallelism, each
// exchange bounded by IOTimeout) and verifies the echo, adding the outcome to
// res.
func pingAll(ctx context.Context, cfg Config, conns []*wsConn, res *Result) error {
	w := cfg.Workload
	payload := makePayload(w.Payload, w.Size)
	wire, err := wirePayload(payload, w.Compress)
	if err != nil {
		return err
	}
	var (
		mu   sync.Mutex
		errs errorLog
		wg   sync.WaitGroup
	)
	next := make(chan *wsConn)
	for range min(cfg.DialConcurrency, len(conns)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range next {
				r, err := echoOnce(c, w.opcode(), payload, wire, w.Compress, cfg.IOTimeout)
				if err != nil {
					errs.add(err)
					continue
				}
				mu.Lock()
				if r.matched {
					res.TotalMessages++
					res.VerifiedBytes += int64(r.bytes)
				} else {
					res.Mismatches++
				}
				mu.Unlock()
			}
		}()
	}
	var ctxErr error
feed:
	for _, c := range conns {
		select {
		case next <- c:
		case <-ctx.Done():
			ctxErr = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	res.ErrorCount = errs.count
	res.ErrorSamples = errs.samples
	return ctxErr
}

// echoOnce sends payload on c and reads back one message. With compress
// (and permessage-deflate negotiated on c) it sends wire, the compressed
// form of payload, with RSV1 set.
func echoOnce(c *wsConn, opcode byte, payload, wire []byte, compress bool, timeout time.Duration) (echoResult, error) {
	key, err := randomKey()
	if err != nil {
		return echoResult{}, err
	}
	if err := c.nc.SetDeadline(time.Now().Add(timeout)); err != nil {
		return echoResult{}, err
	}
	compressed := compress && c.deflate
	if !compressed {
		wire = payload
	}
	if _, err := c.nc.Write(appendClientFrame(nil, opcode, compressed, wire, key)); err != nil {
		return echoResult{}, fmt.Errorf("write: %w", err)
	}
	v := echoVerifier{br: c.br, expected: payload, opcode: opcode, deflate: c.deflate, serverTakeover: c.serverTakeover}
	r, err := v.next()
	if err != nil {
		return echoResult{}, fmt.Errorf("read: %w", err)
	}
	return r, c.nc.SetDeadline(time.Time{})
}
