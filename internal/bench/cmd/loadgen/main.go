// Command loadgen drives a WebSocket echo server with one workload, speaking
// the protocol over raw TCP itself, and prints the measurements. Every echoed
// byte is verified against the payload sent.
//
//	loadgen -addr=127.0.0.1:PORT -workload=bin1k [-pid=SERVERPID] [-json]
//
// Choose a built-in workload with -workload, or describe one with -kind,
// -payload, -size, -conns, -inflight and -compress. The exit status is 1 on
// setup errors and 3 when the run saw mismatches or connection errors.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/wsup/websocket/internal/bench/loadgen"
)

func main() {
	os.Exit(run())
}

func run() int {
	addr := flag.String("addr", "", "server host:port (required)")
	name := flag.String("workload", "", "built-in workload name (empty: use -kind/-payload/... flags)")
	kind := flag.String("kind", string(loadgen.Throughput), "custom workload: throughput, latency, idle, broadcast or churn")
	payload := flag.String("payload", loadgen.PayloadBinary, "custom workload: text, binary or json")
	size := flag.Int("size", 1024, "custom workload: payload bytes")
	conns := flag.Int("conns", 10, "custom workload: connections")
	inflight := flag.Int("inflight", 1, "custom workload: messages in flight per connection")
	compress := flag.Bool("compress", false, "custom workload: permessage-deflate")
	takeover := flag.Bool("takeover", false, "custom workload: offer permessage-deflate with context takeover both ways")
	heapPath := flag.String("heap-path", "", "compressed idle (or -echo-first): also read the server's Go heap at this path (the echoserver serves "+loadgen.HeapPath+")")
	echoFirst := flag.Bool("echo-first", false, "idle: one echo on every connection before reading memory (compressed idle always does)")
	warmup := flag.Duration("warmup", 250*time.Millisecond, "load before the measured window")
	duration := flag.Duration("duration", time.Second, "measured window")
	settle := flag.Duration("settle", time.Second, "idle: wait before reading RSS; broadcast: wait before the first round")
	pid := flag.Int("pid", 0, "server PID for /proc CPU and RSS sampling (0: none)")
	ioTimeout := flag.Duration("io-timeout", 10*time.Second, "bound on each handshake and idle echo")
	minPerConn := flag.Int64("min-per-conn", 0, "keep running past the window until every conn verified this many echoes")
	asJSON := flag.Bool("json", false, "print the result as JSON")
	flag.Parse()

	w := loadgen.Workload{
		Name: "custom", Title: "custom", Kind: loadgen.Kind(*kind), Payload: *payload,
		Size: *size, Conns: *conns, InFlight: *inflight, Compress: *compress, Takeover: *takeover,
	}
	if *name != "" {
		var err error
		if w, err = loadgen.LookupWorkload(*name); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			return 1
		}
	}
	cfg := loadgen.Config{
		Addr: *addr, Workload: w, Warmup: *warmup, Duration: *duration,
		Settle: *settle, ServerPID: *pid, IOTimeout: *ioTimeout, MinPerConn: *minPerConn,
		HeapPath: *heapPath, EchoFirst: *echoFirst,
	}
	// Hard stop well past every configured phase.
	limit := *warmup + *duration + *settle + 3**ioTimeout + 30*time.Second
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	res, err := loadgen.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		return 1
	}
	if *asJSON {
		if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			return 1
		}
	} else {
		printHuman(res)
	}
	if !res.OK() {
		return 3
	}
	return 0
}

// printHuman writes res as aligned key/value lines.
func printHuman(r loadgen.Result) {
	fmt.Printf("workload        %s\n", r.Workload)
	if r.IdleConns > 0 {
		fmt.Printf("idle conns      %d\n", r.IdleConns)
		fmt.Printf("server RSS      %d KiB -> %d KiB (%.2f KiB/conn)\n", r.RSSBeforeKiB, r.RSSAfterKiB, r.RSSPerConnKiB)
		if r.HeapAfterKiB > 0 {
			fmt.Printf("server heap     %d KiB -> %d KiB (%.2f KiB/conn)\n", r.HeapBeforeKiB, r.HeapAfterKiB, r.HeapPerConnKiB)
		}
	} else {
		fmt.Printf("messages        %d in %v (%.0f msg/s)\n", r.Messages, r.Elapsed.Round(time.Millisecond), r.MsgsPerSec)
		fmt.Printf("server CPU      %v (%.2f µs/msg)\n", r.ServerCPU, r.CPUPerMsgMicros)
		if r.Compressed {
			fmt.Printf("wire            %.0f B/msg from the server\n", r.WireBytesPerMsg)
		}
	}
	if r.Rounds > 0 {
		fmt.Printf("broadcasts      %d, last client after p50 %v, max %v\n", r.Rounds, r.LastClientP50, r.LastClientMax)
	}
	if r.LatencySamples > 0 {
		fmt.Printf("latency         p50 %v  p99 %v  (%d samples)\n", r.P50, r.P99, r.LatencySamples)
	}
	fmt.Printf("verified        %d messages, %d bytes, %d mismatches\n", r.TotalMessages, r.VerifiedBytes, r.Mismatches)
	fmt.Printf("errors          %d %v\n", r.ErrorCount, r.ErrorSamples)
}
