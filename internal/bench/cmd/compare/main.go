// Command compare runs every benchmark workload against every echo server
// implementation and prints a Markdown table of medians with ratios against
// gorilla. Run it from internal/bench:
//
//	go run ./cmd/compare            # full run, a few minutes on 2 cores
//	go run ./cmd/compare -quick     # smoke run, well under a minute
//
// Progress goes to stderr, the table to stdout (or -out).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/wsup/websocket/internal/bench/driver"
	"github.com/wsup/websocket/internal/bench/echo"
	"github.com/wsup/websocket/internal/bench/loadgen"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

func run() error {
	quick := flag.Bool("quick", false, "smoke run: 1 round, short windows, 1,000 idle conns, broadcasts to at most 1,000")
	rounds := flag.Int("rounds", 3, "rounds per workload and impl (impls alternate within a round)")
	warmup := flag.Duration("warmup", 250*time.Millisecond, "load before each measured window")
	duration := flag.Duration("duration", time.Second, "measured window per run")
	settle := flag.Duration("settle", 500*time.Millisecond, "idle workload: wait before reading RSS")
	idleConns := flag.Int("idle-conns", 0, "override the idle workload's 10,000 connections")
	impls := flag.String("impls", strings.Join(echo.Impls, ","), "comma-separated impls; gorilla is the ratio baseline")
	workloads := flag.String("workloads", "", "comma-separated workload names (default: all)")
	tags := flag.String("tags", "", "extra build tags for the binaries")
	binDir := flag.String("bin", "", "use prebuilt echoserver/loadgen from this directory instead of building")
	noPin := flag.Bool("no-pin", false, "do not pin server/loadgen to CPUs 0/1 with taskset")
	out := flag.String("out", "", "also write the table to this file")
	flag.Parse()

	if *quick {
		*rounds, *warmup, *duration, *settle = 1, 100*time.Millisecond, 300*time.Millisecond, 300*time.Millisecond
		if *idleConns == 0 {
			*idleConns = 1000
		}
	}
	ws, err := selectWorkloads(*workloads)
	if err != nil {
		return err
	}
	if *quick {
		// Broadcasting to 10,000 clients takes several seconds per run.
		for i, w := range ws {
			if w.Kind == loadgen.Broadcast && w.Conns > quickBroadcastConns {
				ws[i].Conns = quickBroadcastConns
				ws[i].Title = fmt.Sprintf("%s (quick: %d conns)", w.Title, quickBroadcastConns)
			}
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	dir := *binDir
	if dir == "" {
		mod, err := driver.ModuleDir(ctx)
		if err != nil {
			return err
		}
		tmp, err := os.MkdirTemp("", "wsup-bench-")
		if err != nil {
			return err
		}
		defer func() { _ = os.RemoveAll(tmp) }()
		fmt.Fprintln(os.Stderr, "building echoserver and loadgen…")
		var tagList []string
		if *tags != "" {
			tagList = strings.Split(*tags, ",")
		}
		if err := driver.Build(ctx, mod, tmp, tagList); err != nil {
			return err
		}
		dir = tmp
	}
	cfg := driver.Config{
		BinDir: dir, Impls: strings.Split(*impls, ","), Workloads: ws, Rounds: *rounds,
		Warmup: *warmup, Duration: *duration, Settle: *settle, IdleConns: *idleConns,
		NoPin: *noPin, Progress: os.Stderr,
	}
	start, load0 := time.Now(), loadAvg()
	samples, runErr := driver.Run(ctx, cfg)
	msgs, bytes, mism := driver.Verified(samples)

	var b strings.Builder
	pin := "not pinned"
	if cfg.Pinned() {
		pin = "server pinned to CPU 0, loadgen to CPU 1 (taskset)"
	}
	fmt.Fprintf(&b, "<!-- %s, %s/%s, %d CPUs, %s -->\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	fmt.Fprintf(&b, "Rounds: %d · warmup %v · window %v · %s · wall time %v · load average before/after: %s / %s\n\n",
		*rounds, *warmup, *duration, pin, time.Since(start).Round(time.Second), load0, loadAvg())
	b.WriteString(driver.Markdown(cfg, samples))
	fmt.Fprintf(&b, "\nVerified %d echoed messages (%d payload bytes), %d mismatches.\n", msgs, bytes, mism)
	fmt.Print(b.String())
	if *out != "" {
		if err := os.WriteFile(*out, []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	if runErr != nil {
		return runErr
	}
	if mism > 0 {
		return errors.New("echo verification failed: mismatched messages")
	}
	return nil
}

// quickBroadcastConns bounds the broadcast workloads' connections in a
// -quick run.
const quickBroadcastConns = 1000

// selectWorkloads returns the named built-in workloads (all when names is
// empty) as a fresh slice.
func selectWorkloads(names string) ([]loadgen.Workload, error) {
	if names == "" {
		return append([]loadgen.Workload(nil), loadgen.Workloads...), nil
	}
	var ws []loadgen.Workload
	for _, n := range strings.Split(names, ",") {
		w, err := loadgen.LookupWorkload(strings.TrimSpace(n))
		if err != nil {
			return nil, err
		}
		ws = append(ws, w)
	}
	return ws, nil
}

// loadAvg returns the 1-minute load average from /proc/loadavg, or "?".
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}
