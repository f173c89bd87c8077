package driver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wsup/websocket/internal/bench/loadgen"
)

// Config configures Run. Zero fields take the documented defaults.
type Config struct {
	// BinDir holds the echoserver and loadgen binaries (see Build).
	BinDir string
	// Impls are the echo servers to compare, in table order.
	Impls []string
	// Workloads are run in order; each one runs every impl Rounds times,
	// alternating impls (A B C A B C ...).
	Workloads []loadgen.Workload
	// Rounds per workload and impl (default 3, at most 20).
	Rounds int
	// Warmup, Duration and Settle are passed to loadgen (see loadgen.Config).
	Warmup, Duration, Settle time.Duration
	// IdleConns, when positive, overrides Conns of Idle workloads.
	IdleConns int
	// MinPerConn is passed to loadgen (see loadgen.Config.MinPerConn).
	MinPerConn int64
	// NoPin disables CPU pinning even when taskset and two CPUs exist.
	NoPin bool
	// Progress, when non-nil, receives one line per run.
	Progress io.Writer
}

// Sample is the outcome of one server run.
type Sample struct {
	Impl     string         `json:"impl"`
	Workload string         `json:"workload"`
	Round    int            `json:"round"`
	Result   loadgen.Result `json:"result"`
	// Err is empty for a successful run (no setup error, no mismatch, no
	// connection error).
	Err string `json:"err,omitempty"`
}

// pinning returns the taskset prefixes for server and load generator, or
// nils when pinning is disabled or unavailable.
func (c Config) pinning() (server, load []string) {
	if c.NoPin || runtime.NumCPU() < 2 {
		return nil, nil
	}
	ts, err := exec.LookPath("taskset")
	if err != nil {
		return nil, nil
	}
	return []string{ts, "-c", "0"}, []string{ts, "-c", "1"}
}

// Pinned reports whether Run will pin the server to CPU 0 and the load
// generator to CPU 1.
func (c Config) Pinned() bool {
	s, _ := c.pinning()
	return s != nil
}

// withDefaults validates c and fills defaults.
func (c Config) withDefaults() (Config, error) {
	if c.BinDir == "" {
		return c, errors.New("driver: empty BinDir")
	}
	if len(c.Impls) == 0 || len(c.Workloads) == 0 {
		return c, errors.New("driver: no impls or no workloads")
	}
	if c.Rounds == 0 {
		c.Rounds = 3
	}
	if c.Rounds < 1 || c.Rounds > 20 {
		return c, fmt.Errorf("driver: rounds %d not in [1, 20]", c.Rounds)
	}
	for i, w := range c.Workloads {
		if w.Kind == loadgen.Idle && c.IdleConns > 0 {
			c.Workloads[i].Conns = c.IdleConns
		}
		if err := c.Workloads[i].Validate(); err != nil {
			return c, err
		}
	}
	return c, nil
}

// Run executes every workload × round × impl combination sequentially and
// returns one Sample per run. Individual run failures are recorded in the
// Sample; Run itself returns an error only for an invalid Config or ctx
// cancellation. It starts and always reaps its child processes.
func Run(ctx context.Context, cfg Config) ([]Sample, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	var samples []Sample
	for _, w := range cfg.Workloads {
		for round := 1; round <= cfg.Rounds; round++ {
			for _, impl := range cfg.Impls {
				if !Supports(impl, w) {
					continue
				}
				if err := ctx.Err(); err != nil {
					return samples, err
				}
				t0 := time.Now()
				s := runOne(ctx, cfg, impl, w, round)
				if cfg.Progress != nil {
					fmt.Fprintf(cfg.Progress, "%s  [%.1fs]\n", progressLine(s), time.Since(t0).Seconds())
				}
				samples = append(samples, s)
			}
		}
	}
	return samples, ctx.Err()
}

// progressLine is a one-line summary of s.
func progressLine(s Sample) string {
	r := s.Result
	head := fmt.Sprintf("%-10s round %d %-8s", s.Workload, s.Round, s.Impl)
	if s.Err != "" {
		return head + " FAIL " + s.Err
	}
	if r.IdleConns > 0 && r.Compressed {
		return fmt.Sprintf("%s %.2f KiB/conn (RSS %.2f, heap %.2f)", head, r.MemPerConnKiB, r.RSSPerConnKiB, r.HeapPerConnKiB)
	}
	if r.IdleConns > 0 {
		return fmt.Sprintf("%s %.2f KiB/conn", head, r.RSSPerConnKiB)
	}
	line := fmt.Sprintf("%s %9.0f msg/s %8.2f µs/msg", head, r.MsgsPerSec, r.CPUPerMsgMicros)
	if r.LatencySamples > 0 {
		line += fmt.Sprintf(" p99 %v", r.P99.Round(time.Microsecond))
	}
	if r.Compressed {
		line += fmt.Sprintf(" %.0f wire B/msg", r.WireBytesPerMsg)
	}
	if r.Rounds > 0 {
		line += fmt.Sprintf(" last client %v (%d rounds)", r.LastClientP50.Round(time.Microsecond), r.Rounds)
	}
	return line
}

// runOne starts a fresh server for impl, runs workload w against it and
// stops it.
func runOne(ctx context.Context, cfg Config, impl string, w loadgen.Workload, round int) Sample {
	s := Sample{Impl: impl, Workload: w.Name, Round: round}
	srv, err := startServer(ctx, cfg, impl, w.Compress, serverFlags(w)...)
	if err != nil {
		s.Err = err.Error()
		return s
	}
	res, err := runLoadgen(ctx, cfg, srv.addr, srv.cmd.Process.Pid, w)
	if stopErr := srv.stop(); err == nil && stopErr != nil {
		err = stopErr
	}
	s.Result = res
	switch {
	case err != nil:
		s.Err = err.Error()
	case !res.OK():
		s.Err = fmt.Sprintf("%d mismatches, %d connection errors %v", res.Mismatches, res.ErrorCount, res.ErrorSamples)
	case w.Kind != loadgen.Idle && res.Messages == 0:
		s.Err = "no verified echo in the measured window"
	}
	return s
}

// server is a running echoserver process.
type server struct {
	cmd    *exec.Cmd
	addr   string
	stderr *boundedBuffer
	waited chan error
}

// startServer launches echoserver and reads its listen address.
func startServer(ctx context.Context, cfg Config, impl string, compress bool, extra ...string) (*server, error) {
	pin, _ := cfg.pinning()
	args := append(pin, filepath.Join(cfg.BinDir, ServerBinary), "-impl="+impl, "-addr=127.0.0.1:0")
	if compress {
		args = append(args, "-compress")
	}
	args = append(args, extra...)
	cmd := exec.Command(args[0], args[1:]...)
	// The server dies with the driver even if the driver is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	srv := &server{cmd: cmd, stderr: &boundedBuffer{max: 4096}, waited: make(chan error, 1)}
	cmd.Stderr = srv.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", impl, err)
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
		srv.waited <- cmd.Wait()
	}()
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	select {
	case line, ok := <-lines:
		if ok {
			srv.addr = strings.TrimSpace(line)
			return srv, nil
		}
		err = fmt.Errorf("%s exited before listening: %s", impl, strings.TrimSpace(srv.stderr.String()))
	case <-timer.C:
		err = fmt.Errorf("%s did not print its address within 10s", impl)
	case <-ctx.Done():
		err = ctx.Err()
	}
	_ = srv.stop()
	return nil, err
}

// serverFlags returns the echoserver flags workload w needs beyond -impl,
// -addr and -compress.
func serverFlags(w loadgen.Workload) []string {
	if w.Kind == loadgen.Broadcast {
		return []string{"-broadcast"}
	}
	return nil
}

// stop terminates the server (SIGTERM, then SIGKILL after 5s) and reaps it.
func (s *server) stop() error {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.waited:
		return nil
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.waited
		return errors.New("server ignored SIGTERM for 5s")
	}
}

// runLoadgen runs the loadgen binary for w and decodes its JSON result.
func runLoadgen(ctx context.Context, cfg Config, addr string, pid int, w loadgen.Workload) (loadgen.Result, error) {
	_, pin := cfg.pinning()
	args := append(pin, filepath.Join(cfg.BinDir, LoadgenBinary),
		"-addr="+addr, "-pid="+strconv.Itoa(pid), "-json",
		"-kind="+string(w.Kind), "-payload="+w.Payload, "-size="+strconv.Itoa(w.Size),
		"-conns="+strconv.Itoa(w.Conns), "-inflight="+strconv.Itoa(w.InFlight),
		"-compress="+strconv.FormatBool(w.Compress))
	if w.Takeover {
		args = append(args, "-takeover")
	}
	if w.Kind == loadgen.Idle && w.Compress {
		args = append(args, "-heap-path="+loadgen.HeapPath)
	}
	if cfg.Warmup > 0 {
		args = append(args, "-warmup="+cfg.Warmup.String())
	}
	if cfg.Duration > 0 {
		args = append(args, "-duration="+cfg.Duration.String())
	}
	if cfg.Settle > 0 {
		args = append(args, "-settle="+cfg.Settle.String())
	}
	if cfg.MinPerConn > 0 {
		args = append(args, "-min-per-conn="+strconv.FormatInt(cfg.MinPerConn, 10))
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Warmup+cfg.Duration+cfg.Settle+90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stdout bytes.Buffer
	stderr := &boundedBuffer{max: 4096}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	runErr := cmd.Run()
	var res loadgen.Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		if runErr != nil {
			return res, fmt.Errorf("loadgen: %v: %s", runErr, strings.TrimSpace(stderr.String()))
		}
		return res, fmt.Errorf("loadgen output: %w", err)
	}
	// Exit status 3 means "result printed but not OK", which the caller
	// detects from the result itself.
	var exitErr *exec.ExitError
	if runErr != nil && !(errors.As(runErr, &exitErr) && exitErr.ExitCode() == 3) {
		return res, fmt.Errorf("loadgen: %v: %s", runErr, strings.TrimSpace(stderr.String()))
	}
	res.Workload = w.Name
	return res, nil
}

// boundedBuffer keeps the first max bytes written to it; it is safe for
// concurrent use.
type boundedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

// Write stores what fits and reports every byte as written.
func (b *boundedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// String returns the stored bytes.
func (b *boundedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
