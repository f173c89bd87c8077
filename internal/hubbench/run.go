package hubbench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Setup bounds: connecting 10,000 subscribers on 2 shared cores takes
// tens of seconds.
const (
	readyTimeout   = 5 * time.Minute
	fanoutTimeout  = time.Minute
	publishTimeout = 10 * time.Second
)

// Run is a running fan-out measurement: a system's servers and the load
// process holding its subscribers.
type Run struct {
	cluster *Cluster
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	lines   chan string
	exited  chan struct{}
	subs    int
	busy    time.Duration // publish-to-last-delivery, summed
	pubs    int
}

// Start starts sys (over the Redis at redisAddr when it needs one) and a
// load process with subs subscribers spread over its servers, started as
// self (a test binary whose TestMain calls MaybeRunLoad). It returns when
// every subscriber is subscribed.
func Start(sys System, redisAddr string, subs int, self string) (*Run, error) {
	c, err := sys.Starts(redisAddr)
	if err != nil {
		return nil, err
	}
	r := &Run{cluster: c, subs: subs, lines: make(chan string, 16), exited: make(chan struct{})}
	r.cmd = exec.Command(self, "-test.run=^$")
	r.cmd.Env = append(os.Environ(), loadEnv+"="+sys.Proto+" "+strconv.Itoa(subs)+" "+strings.Join(c.URLs, ","))
	r.cmd.Stderr = os.Stderr
	if r.stdin, err = r.cmd.StdinPipe(); err != nil {
		c.Stop()
		return nil, err
	}
	stdout, err := r.cmd.StdoutPipe()
	if err != nil {
		c.Stop()
		return nil, err
	}
	if err := r.cmd.Start(); err != nil {
		c.Stop()
		return nil, err
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			r.lines <- sc.Text()
		}
		_ = r.cmd.Wait()
		close(r.exited)
	}()
	if err := r.expect("ready", readyTimeout); err != nil {
		r.Stop()
		return nil, err
	}
	return r, nil
}

// expect waits for the line want from the load process.
func (r *Run) expect(want string, timeout time.Duration) error {
	deadline := time.After(timeout)
	for {
		select {
		case l := <-r.lines:
			if l == want {
				return nil
			}
			if strings.HasPrefix(l, "done ") {
				continue // an older publication
			}
			return fmt.Errorf("hubbench: load process said %q, want %q", l, want)
		case <-r.exited:
			return fmt.Errorf("hubbench: load process exited (%v) before %q", r.cmd.ProcessState, want)
		case <-deadline:
			return fmt.Errorf("%w waiting for %q", errTimeout, want)
		}
	}
}

// PublishOne publishes message seq and waits until every subscriber has
// it.
func (r *Run) PublishOne(seq int) error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
	err := r.cluster.Publish(ctx, payload(seq, start.UnixNano()))
	cancel()
	if err != nil {
		return err
	}
	if err := r.expect("done "+strconv.Itoa(seq), fanoutTimeout); err != nil {
		return err
	}
	r.busy += time.Since(start)
	r.pubs++
	return nil
}

// Result is what a Run measured.
type Result struct {
	Deliveries    int
	DeliveriesSec float64
	P50, P99      time.Duration
}

// Result returns the measurements since the last call.
func (r *Run) Result() (Result, error) {
	if _, err := io.WriteString(r.stdin, "stats\n"); err != nil {
		return Result{}, err
	}
	select {
	case l := <-r.lines:
		var p50, p99 int64
		var n int
		if _, err := fmt.Sscanf(l, "stats %d %d %d", &p50, &p99, &n); err != nil {
			return Result{}, fmt.Errorf("hubbench: load process said %q", l)
		}
		res := Result{Deliveries: n, P50: time.Duration(p50), P99: time.Duration(p99)}
		if r.busy > 0 {
			res.DeliveriesSec = float64(r.subs*r.pubs) / r.busy.Seconds()
		}
		r.busy, r.pubs = 0, 0
		return res, nil
	case <-r.exited:
		return Result{}, fmt.Errorf("hubbench: load process exited (%v)", r.cmd.ProcessState)
	case <-time.After(fanoutTimeout):
		return Result{}, fmt.Errorf("%w waiting for stats", errTimeout)
	}
}

// Stop ends the load process (its input closes) and the servers.
func (r *Run) Stop() {
	_ = r.stdin.Close()
	select {
	case <-r.exited:
	case <-time.After(30 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.exited
	}
	r.cluster.Stop()
}
